// The node's interfaces: listing them (kinds, addresses, default routes, XDP programs), telling physical
// from virtual, and selecting those an XdpCounter's spec.interfaces names.
export { classify, type InterfaceClass, PHYSICAL_KINDS, VIRTUAL_PREFIXES } from "./classify.ts";
export { InterfaceError, InterfaceErrorCode } from "./errors.ts";
export { globToRegExp, isGlob, matchesGlob } from "./glob.ts";
export { type Inventory, type NetInterface, parseInventory, readInventory } from "./inventory.ts";
export { type Selection, selectInterfaces, stillWanted } from "./select.ts";
