// A component's process is one of the local cluster's daemons (../process.ts).
export { Daemon as ComponentProcess, type Exit } from "../process.ts";
