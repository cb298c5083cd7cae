// What the shared scenario needs from a cluster: kubectl with the admin's credentials, and a shell on a node
// (its network and mount namespaces) to look at what is attached and pinned there. The local cluster
// (`e2e/local/`) and a kind cluster (`e2e/kind/`) both provide it.

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ScenarioCluster {
  /** kubectl with the admin kubeconfig unless `kubeconfig` names another. */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<CommandResult>;
  /** Runs `argv` on a node, in its network and mount namespaces (as its agent sees them). */
  execOnNode(node: string, argv: string[]): Promise<CommandResult>;
}
