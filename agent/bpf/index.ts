// The BPF core: load, attach, pin, read and detach the XDP counter. Used by the CLI and the agent.
export {
  AttachedCounter,
  type AttachOutcome,
  attachCounter,
  type CounterLocation,
  type CounterSpec,
  type CounterStatus,
  counterStatus,
  detachCounter,
  listCounters,
  pinnedLinkIfindex,
  renameCounter,
} from "./counter.ts";
export { type Count, CounterReader, type Counters, numPossibleCpus, zeroCounters } from "./counters.ts";
export { BpfError, BpfErrorCode, errnoName } from "./errors.ts";
export {
  COUNTER_ACTIONS,
  type CounterAction,
  DEFAULT_OBJECT_PATH,
  XDP_ACTIONS,
  type XdpAction,
} from "./layout.ts";
export { type NativeRefusal, NativeRefusalReason } from "./native-refusal.ts";
export { LoadedCounter } from "./object.ts";
export { DEFAULT_PIN_ROOT, pinnedInterfaces, pinOwners, requireBpffs, STANDALONE_OWNER } from "./pins.ts";
export {
  ATTACH_MODES,
  type AttachMode,
  ifindexOf,
  NativeRefusedError,
  queryXdp,
  type XdpMode,
} from "./xdp.ts";
