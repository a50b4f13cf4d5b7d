import type { Awareness } from 'y-protocols/awareness';

/**
 * The list of who is in the document, from the awareness: everyone whose state has a user,
 * you first. Rebuilt on every change (a handful of people; the DOM is cheap at that size).
 * Names go in as text, never as markup.
 */
export function showPeople(list: HTMLElement, awareness: Awareness): () => void {
  const render = (): void => {
    const people: { id: number; name: string; color: string }[] = [];
    for (const [id, state] of awareness.getStates()) {
      const user = state.user as { name?: unknown; color?: unknown } | undefined;
      if (typeof user?.name !== 'string') continue;
      people.push({ id, name: user.name, color: typeof user.color === 'string' ? user.color : '#888' });
    }
    people.sort((a, b) => Number(b.id === awareness.clientID) - Number(a.id === awareness.clientID) || a.name.localeCompare(b.name) || a.id - b.id);
    list.replaceChildren(
      ...people.map((person) => {
        const item = document.createElement('li');
        item.className = 'person';
        item.dataset.testid = 'person';
        const dot = document.createElement('span');
        dot.className = 'person-dot';
        dot.style.backgroundColor = person.color;
        const name = document.createElement('span');
        name.className = 'person-name';
        name.dataset.testid = 'person-name';
        name.textContent = person.name;
        item.append(dot, name);
        if (person.id === awareness.clientID) {
          const you = document.createElement('span');
          you.className = 'person-you';
          you.textContent = '(you)';
          item.append(you);
        }
        return item;
      }),
    );
  };
  awareness.on('change', render);
  render();
  return () => awareness.off('change', render);
}
