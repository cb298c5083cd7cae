// API paths of the resources the operator and the agents read and write.
import { GROUP, PLURAL, REPORT_PLURAL, VERSION } from "../../api/v1alpha1/index.ts";

export function xdpCountersPath(name?: string, subresource?: "status"): string {
  const base = `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  if (name === undefined) return base;
  return `${base}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ""}`;
}

export function daemonSetsPath(namespace: string, name?: string): string {
  const base = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/daemonsets`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function nodesPath(name?: string): string {
  return name === undefined ? "/api/v1/nodes" : `/api/v1/nodes/${encodeURIComponent(name)}`;
}

export function leasesPath(namespace: string, name?: string): string {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
}

export function eventsPath(namespace: string, name?: string): string {
  const base = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function reportsPath(name?: string): string {
  const base = `/apis/${GROUP}/${VERSION}/${REPORT_PLURAL}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function configMapsPath(namespace: string, name?: string): string {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function deploymentsPath(namespace: string, name?: string): string {
  const base = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
