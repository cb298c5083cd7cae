export { describeSettings, type OperatorConfig, parseOperatorConfig } from "./operator-config.ts";
export { SETTINGS, type Setting, type SettingName } from "./settings.ts";
