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

// XdpCounterReport: one node's counts for one XdpCounter, written by that node's agent (docs/adr/0022).
export const REPORT_KIND = "XdpCounterReport";
export const REPORT_LIST_KIND = "XdpCounterReportList";
export const REPORT_PLURAL = "xdpcounterreports";
export const REPORT_SINGULAR = "xdpcounterreport";
export const REPORT_SHORT_NAMES = ["xdpcr"] as const;
export const REPORT_CRD_NAME = `${REPORT_PLURAL}.${GROUP}`;
/** The label on every report naming its XdpCounter, for `kubectl get xdpcr -l xdpcounter.dev/xdpcounter=NAME`. */
export const XDPCOUNTER_LABEL = `${GROUP}/xdpcounter`;
/** XdpCounter names must fit a label value (the report's XDPCOUNTER_LABEL). */
export const MAX_XDPCOUNTER_NAME = 63;
