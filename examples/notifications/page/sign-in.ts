/** The pages' sign-in: ask the server who we are; if nobody, show the name form until it has set its cookie. */
const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** The signed-in user, once there is one. */
export async function signedInUser(): Promise<string> {
  const me = await fetch('/api/me');
  if (me.ok) return ((await me.json()) as { user: string }).user;
  return new Promise((resolve) => {
    const form = element<HTMLFormElement>('sign-in');
    const input = element<HTMLInputElement>('name-input');
    const error = element('name-error');
    form.hidden = false;
    input.focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        const answer = await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: input.value }) });
        const body = (await answer.json()) as { user?: string; message?: string };
        if (!answer.ok || !body.user) {
          error.textContent = body.message ?? 'could not sign in';
          return;
        }
        form.hidden = true;
        resolve(body.user);
      })();
    });
  });
}

/** Sign out on the server (which also closes every page of this user), then start over. */
export async function signOut(): Promise<void> {
  await fetch('/api/logout', { method: 'POST' });
  location.reload();
}
