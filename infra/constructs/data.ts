import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  type ITable,
  ProjectionType,
  Table,
} from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE } from '../../shared/table.ts';

const string = (name: string) => ({ name, type: AttributeType.STRING });

/** The one table (DESIGN.md "Data"), built from the same definition the local runtime gives dynalite. */
export const createTable = (scope: Construct): Table => {
  const table = new Table(scope, 'Table', {
    partitionKey: string(TABLE.partitionKey),
    sortKey: string(TABLE.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    // TTL only collects garbage; statuses never depend on it (DESIGN.md "Data").
    timeToLiveAttribute: TABLE.ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // Devices, secrets and message history must survive a stack deletion.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of TABLE.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: string(index.partitionKey),
      sortKey: string(index.sortKey),
      projectionType: ProjectionType.ALL,
    });
  }
  return table;
};

/**
 * grantReadData/grantReadWriteData also cover `{table}/index/*`, which cdk-nag reports as a wildcard.
 * Acknowledged on `scope`, the construct holding the grantee's policy.
 */
export const acknowledgeIndexWildcard = (scope: Construct, table: ITable): void => {
  const logicalId = Stack.of(table).resolve((table.node.defaultChild as CfnTable).logicalId) as string;
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
    reason: 'Queries need the table GSIs (shared/table.ts); index/* covers only indexes of this one table.',
  });
};
