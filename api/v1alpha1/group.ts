// The identity of the XdpCounter API: group, version, kind and the names kubectl knows it by.
export const GROUP = "xdpcounter.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "XdpCounter";
export const LIST_KIND = "XdpCounterList";
export const PLURAL = "xdpcounters";
export const SINGULAR = "xdpcounter";
export const SHORT_NAMES = ["xdpc"] as const;
export const CATEGORIES = ["networking"] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;
