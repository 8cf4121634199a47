import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** The items of a query, page after page, until `max` are found or none are left (Infinity: all of them). */
export const queryUpTo = async (
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
  max: number,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const left = max - items.length;
    const page = await db.send(
      new QueryCommand({ ...input, ...(Number.isFinite(left) ? { Limit: left } : {}), ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && items.length < max);
  return items;
};

/** How many items a query matches, every page counted (DynamoDB bills a COUNT like reading them). */
export const countAll = async (db: DynamoDBDocumentClient, input: QueryCommandInput): Promise<number> => {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, Select: 'COUNT', ExclusiveStartKey: start }));
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return total;
};
