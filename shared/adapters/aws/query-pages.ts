import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * The items of a query, page after page (the SDK's paginator), until `max` are found or none are left
 * (Infinity: all of them). A page asks for at most `max`; one cut short by DynamoDB's 1 MB is followed.
 */
export const queryUpTo = async (
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
  max: number,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  const pageSize = Number.isFinite(max) ? max : undefined;
  for await (const page of paginateQuery({ client: db, ...(pageSize ? { pageSize } : {}) }, input)) {
    items.push(...(page.Items ?? []));
    if (items.length >= max) break;
  }
  return items.slice(0, max);
};

/** How many items a query matches, every page counted (DynamoDB bills a COUNT like reading them). */
export const countAll = async (db: DynamoDBDocumentClient, input: QueryCommandInput): Promise<number> => {
  let total = 0;
  for await (const page of paginateQuery({ client: db }, { ...input, Select: 'COUNT' })) total += page.Count ?? 0;
  return total;
};
