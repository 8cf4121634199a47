import type { Presence } from '../domain/presence.ts';

export interface DeviceRecord {
  project: string;
  deviceId: string;
  /**
   * Which registration of this device id it is: new at every AddDevice, so what a deleted device owned
   * (messages, kept under its generation) is never seen by a device added again with the same id.
   * '' for devices stored before generations existed.
   */
  generation: string;
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

export type DeviceRegistration = Pick<DeviceRecord, 'deviceId' | 'generation'>;

export interface DeviceStore {
  /** Throws ConditionFailedError when the device id is taken (in any project). */
  create(device: DeviceRecord): Promise<void>;
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** Deletes only that registration, and only when it belongs to `project`; false when there was nothing to delete. */
  delete(project: string, device: DeviceRegistration): Promise<boolean>;
  /** Writes presence if the registration is still at `expectedRev`; false when another write came first. */
  savePresence(device: DeviceRegistration, presence: Presence, expectedRev: number): Promise<boolean>;
}
