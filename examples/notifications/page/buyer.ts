/**
 * The buyer page: the catalog and an "Order" button per product. Ordering is a plain
 * `POST /api/orders`: the buyer page needs no realtime connection, the shop's HTTP handler
 * tells the seller (see shop-api.ts).
 */
import { formatPrice, type Product } from '../catalog.js';
import { signedInUser, signOut } from './sign-in.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const user = await signedInUser();
element('me-name').textContent = user;
element('workspace').hidden = false;
element('sign-out').addEventListener('click', () => void signOut());

const { products } = (await (await fetch('/api/catalog')).json()) as { products: Product[] };
element('products').replaceChildren(
  ...products.map((product) => {
    const item = document.createElement('li');
    item.className = 'product';
    item.dataset.testid = 'product';
    item.dataset.id = product.id;
    const name = document.createElement('strong');
    name.textContent = product.name;
    const detail = document.createElement('span');
    detail.textContent = `${formatPrice(product.price)} · sold by ${product.seller}`;
    const quantity = document.createElement('input');
    quantity.type = 'number';
    quantity.min = '1';
    quantity.max = '99';
    quantity.value = '1';
    quantity.setAttribute('aria-label', `Quantity of ${product.name}`);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'primary';
    button.textContent = 'Order';
    button.addEventListener('click', () => void order(product, Number(quantity.value), button));
    item.append(name, detail, quantity, button);
    return item;
  }),
);

async function order(product: Product, quantity: number, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const answer = await fetch('/api/orders', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ productId: product.id, quantity }) });
    const body = (await answer.json()) as { order?: { id: string }; message?: string };
    const line = document.createElement('li');
    line.dataset.testid = 'placed';
    line.textContent = answer.ok && body.order ? `Ordered ${quantity} × ${product.name} (${body.order.id}): ${product.seller} has been told.` : `Not ordered: ${body.message ?? answer.status}`;
    element('placed').prepend(line);
  } finally {
    button.disabled = false;
  }
}
