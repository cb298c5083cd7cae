// Finalizers that the server itself acts on (the garbage collector and the apiextensions cleanup).
export const systemFinalizers = {
  foreground: "foregroundDeletion",
  orphan: "orphan",
  crdCleanup: "customresourcecleanup.apiextensions.k8s.io",
} as const;
