/** The shop's goods: each product is sold by one seller, who gets the order notifications. */
export interface Product {
  id: string;
  name: string;
  /** Price in cents. */
  price: number;
  /** The seller's user id (the name they sign in with). */
  seller: string;
}

export const CATALOG: readonly Product[] = [
  { id: 'tea-sencha', name: 'Sencha, 100 g', price: 1250, seller: 'ada' },
  { id: 'tea-oolong', name: 'Milk oolong, 50 g', price: 1490, seller: 'ada' },
  { id: 'mug-blue', name: 'Blue stoneware mug', price: 2200, seller: 'grace' },
  { id: 'teapot-cast', name: 'Cast-iron teapot', price: 5400, seller: 'grace' },
];

export const SELLERS: readonly string[] = [...new Set(CATALOG.map((p) => p.seller))];

export function productById(id: unknown): Product | undefined {
  return CATALOG.find((p) => p.id === id);
}

export function formatPrice(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}
