import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientOptions } from './client-options.ts';

/** The document client every DynamoDB adapter shares: plain JS values, undefined attributes left out. */
export const createDynamoDb = (region: string, endpoint: string | undefined): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(region, endpoint)), {
    marshallOptions: { removeUndefinedValues: true },
  });
