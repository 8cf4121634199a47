/** Named leases: at most one holder at a time, and a holder that died loses its lease when it runs out. */
export interface LeaseStore {
  /** Takes the lease until `untilMs` unless another holder's lease runs past `nowMs`; true when taken. */
  acquire(name: string, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease back, if this holder still has it. */
  release(name: string, holder: string): Promise<void>;
}
