import type { Presence } from '../domain/presence.ts';

export interface DeviceRecord {
  project: string;
  deviceId: string;
  nodeId: string;
  productId: string;
  name?: string;
  description?: string;
  secret: string;
  createdAt: number;
  /** Revision of the presence state, for optimistic concurrency between presence workers. */
  rev: number;
  presence: Presence;
}

export interface DeviceStore {
  /** Throws ConditionFailedError when the device id is taken (in any project). */
  create(device: DeviceRecord): Promise<void>;
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** Deletes only when the device belongs to `project`; false when there was nothing to delete. */
  delete(project: string, deviceId: string): Promise<boolean>;
  /** Writes presence if the record is still at `expectedRev`; false when another write came first. */
  savePresence(deviceId: string, presence: Presence, expectedRev: number): Promise<boolean>;
}
