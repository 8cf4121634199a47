import * as z from 'zod';
import { PROTOCOL_TYPES, ServiceCapabilities } from '../domain/product-model.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { newListId } from '../ids.ts';
import { PAGING } from '../paging.ts';
import type { ProductRecord, ProductSummary } from '../ports/product-store.ts';
import { compactUtc } from '../time.ts';
import { idString, parseInput } from '../validation.ts';

/** The ports this use case uses. */
export type ManageProductsDeps = Pick<Deps, 'clock' | 'devices' | 'logger' | 'products'>;

// IoTDA AddProduct / UpdateProduct fields (research console-and-models §1); app_id is accepted and ignored.
const fields = {
  name: z.string().min(1).max(64),
  device_type: z.string().min(1).max(32),
  protocol_type: z.enum(PROTOCOL_TYPES),
  data_format: z.enum(['json', 'binary']),
  manufacturer_name: z.string().max(32).optional(),
  industry: z.string().max(64).optional(),
  description: z.string().max(128).optional(),
  service_capabilities: ServiceCapabilities,
};

const CreateProductBody = z.object({
  product_id: idString(36).optional(),
  ...fields,
  data_format: fields.data_format.default('json'),
});
const UpdateProductBody = z.object(fields).partial();
const ListQuery = z.object({ product_name: z.string().min(1).max(64).optional(), ...PAGING });

const UPDATE_ATTEMPTS = 5;

/** IoTDA's ProductSummary: optional fields never set are left out, as IoTDA leaves them out; app_name as on devices. */
const summaryView = (p: ProductSummary) => ({
  app_id: p.project,
  app_name: p.project,
  product_id: p.productId,
  name: p.name,
  device_type: p.deviceType,
  protocol_type: p.protocolType,
  data_format: p.dataFormat,
  ...(p.manufacturerName !== undefined ? { manufacturer_name: p.manufacturerName } : {}),
  ...(p.industry !== undefined ? { industry: p.industry } : {}),
  ...(p.description !== undefined ? { description: p.description } : {}),
  create_time: compactUtc(p.createdAt),
});

const productView = (p: ProductRecord) => ({ ...summaryView(p), service_capabilities: p.serviceCapabilities });

const parseProductId = (value: string | undefined): string => parseInput(idString(36), value ?? '');

/** A product of this project; another project's product is as unknown as a missing one. */
export const findProduct = async (
  deps: Pick<Deps, 'products'>,
  project: string,
  productId: string,
): Promise<ProductRecord> => {
  const product = await deps.products.get(productId);
  if (!product || product.project !== project) throw errors.productNotFound(productId);
  return product;
};

/** The descriptive fields a body sets, in the record's names; absent ones are left out. */
const recordFields = (input: Partial<z.output<typeof UpdateProductBody>>) => ({
  ...(input.name !== undefined ? { name: input.name } : {}),
  ...(input.device_type !== undefined ? { deviceType: input.device_type } : {}),
  ...(input.protocol_type !== undefined ? { protocolType: input.protocol_type } : {}),
  ...(input.data_format !== undefined ? { dataFormat: input.data_format } : {}),
  ...(input.manufacturer_name !== undefined ? { manufacturerName: input.manufacturer_name } : {}),
  ...(input.industry !== undefined ? { industry: input.industry } : {}),
  ...(input.description !== undefined ? { description: input.description } : {}),
  ...(input.service_capabilities !== undefined ? { serviceCapabilities: input.service_capabilities } : {}),
});

/** IoTDA AddProduct: the model checked whole (nothing stored when any part is wrong); product ids are unique per deployment. */
export const createProduct = async (deps: ManageProductsDeps, project: string, body: unknown) => {
  const input = parseInput(CreateProductBody, body);
  const now = deps.clock.now();
  const listId = newListId(now);
  const product = {
    project,
    productId: input.product_id ?? listId,
    listId,
    ...recordFields(input),
    createdAt: now,
    version: 0,
  } as ProductRecord;
  if (!(await deps.products.create(product))) throw errors.productExists(product.productId);
  deps.logger.info('product created', { project, productId: product.productId });
  return productView(product);
};

export const showProduct = async (deps: ManageProductsDeps, project: string, rawProductId: string | undefined) =>
  productView(await findProduct(deps, project, parseProductId(rawProductId)));

/** IoTDA ListProducts: summaries, newest first, `product_name` matching by substring. */
export const listProducts = async (deps: ManageProductsDeps, project: string, query: unknown) => {
  const q = parseInput(ListQuery, query);
  const page = await deps.products.list(project, {
    nameContains: q.product_name,
    below: q.marker,
    offset: q.offset,
    limit: q.limit,
  });
  const last = page.items.at(-1);
  return {
    products: page.items.map(summaryView),
    page: { count: page.count, ...(last ? { marker: last.listId } : {}) },
  };
};

/** IoTDA UpdateProduct: the fields given replace the stored ones (a given `service_capabilities` replaces the model whole). */
export const updateProduct = async (
  deps: ManageProductsDeps,
  project: string,
  rawProductId: string | undefined,
  body: unknown,
) => {
  const productId = parseProductId(rawProductId);
  const input = parseInput(UpdateProductBody, body);
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const current = await findProduct(deps, project, productId);
    const next: ProductRecord = { ...current, ...recordFields(input), version: current.version + 1 };
    if (await deps.products.replace(next)) {
      deps.logger.info('product updated', { project, productId });
      return productView(next);
    }
  }
  throw new Error(`product ${productId} kept changing under its update`);
};

/** IoTDA DeleteProduct: refused with 409 while a device uses the product. */
export const deleteProduct = async (
  deps: ManageProductsDeps,
  project: string,
  rawProductId: string | undefined,
): Promise<void> => {
  const productId = parseProductId(rawProductId);
  const isLive = async (d: { deviceId: string; generation: string }) =>
    (await deps.devices.get(d.deviceId))?.generation === d.generation;
  const outcome = await deps.products.delete(project, productId, isLive);
  if (outcome === 'not-found') throw errors.productNotFound(productId);
  if (outcome === 'in-use') throw errors.productInUse(productId);
  deps.logger.info('product deleted', { project, productId });
};
