/** Caret and selection colours, distinct on white and readable under white text. */
const PALETTE = ['#e11d48', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'] as const;

/** What a person shows the others in the awareness: y-codemirror.next reads `name`, `color` and `colorLight`. */
export interface UserInfo {
  name: string;
  color: string;
  colorLight: string;
}

/**
 * The colour of a person: from their name, so that someone who reloads keeps their colour,
 * and from their Yjs clientID, so that two people with one name still differ.
 */
export function userInfo(name: string, clientID: number): UserInfo {
  let hash = clientID;
  for (const char of name) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) | 0;
  const color = PALETTE[Math.abs(hash) % PALETTE.length] ?? PALETTE[0];
  return { name, color, colorLight: `${color}33` };
}

/** The name a person typed, trimmed; an error message when it cannot be used. */
export function checkName(raw: string): { name: string } | { error: string } {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length === 0) return { error: 'Type a name first.' };
  if (name.length > 32) return { error: 'At most 32 characters, please.' };
  return { name };
}
