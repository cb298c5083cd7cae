export {
  canRemoveFinalizer,
  FINALIZER,
  type FinalizerDecision,
  hasFinalizer,
  withFinalizer,
  withoutFinalizer,
} from "./finalizer.ts";
