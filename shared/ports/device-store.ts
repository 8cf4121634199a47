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
  /** 24 hex that sort by creation: the device's place in ListDevices and the value of its `marker`. */
  listId: string;
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

export interface DeviceQuery {
  productId?: string;
  nodeId?: string;
  /** Only devices whose name contains this. */
  nameContains?: string;
  /** Only list ids below this one (IoTDA §1 marker). */
  below: string;
  offset: number;
  limit: number;
}

export interface DeviceStore {
  /** False when the device id is taken (in any project). */
  create(device: DeviceRecord): Promise<boolean>;
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** A project's devices, newest first; `count` is every device matching the filters. */
  list(project: string, query: DeviceQuery): Promise<{ items: DeviceRecord[]; count: number }>;
  /** Deletes only that registration, and only when it belongs to `project`; false when there was nothing to delete. */
  delete(project: string, device: DeviceRegistration): Promise<boolean>;
  /** Writes presence if the registration is still at `expectedRev`; false when another write came first. */
  savePresence(device: DeviceRegistration, presence: Presence, expectedRev: number): Promise<boolean>;
}
