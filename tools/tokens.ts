import { localHost } from './local-host.ts';
import { parseArgs } from 'node:util';
import { DynamoDbTokenStore } from '../shared/adapters/aws/dynamodb-token-store.ts';
import { createDynamoDb } from '../shared/adapters/aws/create-dynamodb.ts';
import { systemClock } from '../shared/time.ts';
import {
  createAccessKey,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from '../shared/use-cases/manage-api-tokens.ts';
import { DEFAULT_REGION } from '../shared/aws-names.ts';

const USAGE = `Manage API tokens (X-Auth-Token) and access keys (AK/SK signatures) in a Downlink table.

  npm run tokens -- create --project P [--project P2 ...] [--name NAME]
  npm run tokens -- create-key --project P [--project P2 ...] [--name NAME]
  npm run tokens -- list
  npm run tokens -- revoke TOKEN_ID_OR_AK

Target (default: the local runtime started by npm start):
  --endpoint URL   DynamoDB endpoint (default http://$DOWNLINK_HOST:$DOWNLINK_DYNAMODB_PORT when set, else
                   http://127.0.0.1:8000: the local runtime)
  --table NAME     table name (default: downlink)
  --aws            use the AWS account of the current credentials (no endpoint); pass --table with the
                   stack's TableName output`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    project: { type: 'string', multiple: true },
    name: { type: 'string' },
    endpoint: { type: 'string' },
    table: { type: 'string', default: 'downlink' },
    aws: { type: 'boolean', default: false },
    region: { type: 'string', default: process.env.AWS_REGION ?? DEFAULT_REGION },
    help: { type: 'boolean', short: 'h' },
  },
});

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const [command, arg] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

const endpoint = values.aws
  ? undefined
  : (values.endpoint ?? `http://${localHost(process.env)}:${process.env.DOWNLINK_DYNAMODB_PORT || '8000'}`);
const db = createDynamoDb(values.region, endpoint);
const deps = { tokens: new DynamoDbTokenStore(db, values.table), clock: systemClock };

switch (command) {
  case 'create': {
    const { token, record } = await createApiToken(deps, values.project ?? fail('create needs --project'), values.name);
    // The token is shown once; only its hash is stored.
    console.log(`token ${token}\nid ${record.tokenId}\nprojects ${record.projects.join(',')}`);
    break;
  }
  case 'create-key': {
    const record = await createAccessKey(deps, values.project ?? fail('create-key needs --project'), values.name);
    // The SK is shown once; list never shows it.
    console.log(`ak ${record.tokenId}\nsk ${record.secretKey}\nprojects ${record.projects.join(',')}`);
    break;
  }
  case 'list':
    for (const t of await listApiTokens(deps))
      console.log(
        `${t.secretKey ? 'key  ' : 'token'}  ${t.tokenId}  ${new Date(t.createdAt).toISOString()}  ` +
          `${t.projects.join(',')}  ${t.name ?? ''}`,
      );
    break;
  case 'revoke':
    if (!(await revokeApiToken(deps, arg ?? fail('revoke needs a token id or AK'))))
      fail(`no token or key with id ${arg}`);
    console.log(`revoked ${arg}`);
    break;
  default:
    fail(USAGE);
}
