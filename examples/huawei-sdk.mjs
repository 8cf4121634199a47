// An IoTDA application's calls made with Huawei's SDK core, unchanged but for the endpoint and the keys:
// `withEndpoint` names Downlink, and BasicCredentials hold a Downlink access key (npm run tokens -- create-key).
// AK=... SK=... node examples/huawei-sdk.mjs [device id]   (ENDPOINT and PROJECT default to the local runtime's)
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';

const endpoint = process.env.ENDPOINT ?? 'http://127.0.0.1:8080';
const project = process.env.PROJECT ?? 'demo';
const deviceId = process.argv[2] ?? 'water_valve-1';

const credentials = new BasicCredentials().withAk(process.env.AK).withSk(process.env.SK).withProjectId(project);
const client = new ClientBuilder((c) => c).withCredential(credentials).withEndpoint(endpoint).build();

// What the IoTDA service client's ShowDevice and CreateCommand send.
const call = (method, url, data) =>
  client.sendRequest({
    method,
    url,
    contentType: 'application/json',
    pathParams: { project_id: project, device_id: deviceId },
    queryParams: {},
    headers: {},
    ...(data ? { data } : {}),
  });

const device = await call('GET', '/v5/iot/{project_id}/devices/{device_id}');
console.log(device.httpStatusCode, device.device_id, device.product_name, device.status);
const command = await call('POST', '/v5/iot/{project_id}/devices/{device_id}/commands', {
  service_id: 'Valve',
  command_name: 'open',
  paras: { level: 5 },
});
console.log(command.httpStatusCode, JSON.stringify(command.response));
