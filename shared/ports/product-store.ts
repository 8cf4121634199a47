import type { ServiceDef } from '../domain/product-model.ts';
import type { DeviceRegistration } from './device-store.ts';

/** An IoTDA product (CONTRACT.md §5): its descriptive fields and its model. */
export interface ProductRecord {
  project: string;
  productId: string;
  /** 24 hex that sort by creation: the product's place in lists and the value of their `marker`. */
  listId: string;
  name: string;
  deviceType: string;
  protocolType: string;
  dataFormat: 'json' | 'binary';
  manufacturerName?: string;
  industry?: string;
  description?: string;
  serviceCapabilities: ServiceDef[];
  createdAt: number;
  /** Bumped by every update, so two updates at once cannot both win. */
  version: number;
}

export type ProductSummary = Omit<ProductRecord, 'serviceCapabilities'>;

export interface ProductQuery {
  /** Only products whose name contains this. */
  nameContains?: string;
  /** Only list ids below this one (IoTDA §1 marker). */
  below: string;
  offset: number;
  limit: number;
}

export type DeleteProductOutcome = 'deleted' | 'not-found' | 'in-use';

/**
 * Products, and which device registrations use each. A device's use is a link item written before the
 * device and removed after it, read consistently, so a product is never deleted while a device uses it.
 */
export interface ProductStore {
  /** False when the product id is taken (in any project). */
  create(product: ProductRecord): Promise<boolean>;
  /** The product, unless it is missing or being deleted. */
  get(productId: string): Promise<ProductRecord | undefined>;
  /** Newest first, without models; `count` is every product matching the filter. */
  list(project: string, query: ProductQuery): Promise<{ items: ProductSummary[]; count: number }>;
  /** Replaces the product if it is still at `product.version - 1`; false otherwise. */
  replace(product: ProductRecord): Promise<boolean>;
  /** Deletes the product unless a live device uses it. */
  delete(
    project: string,
    productId: string,
    isLive: (device: DeviceRegistration) => Promise<boolean>,
  ): Promise<DeleteProductOutcome>;
  /** Records that a device registration uses the product (before the device is stored). */
  link(productId: string, device: DeviceRegistration, at: number): Promise<void>;
  /** Removes that record (after the device is deleted, or when adding it failed). */
  unlink(productId: string, device: DeviceRegistration): Promise<void>;
}
