// A short name for a session's device from its User-Agent ("Firefox on Windows"), for the sessions list;
// the full string stays in the row's title. Order matters: Edge and Opera also say "Chrome", Chrome also
// says "Safari", Android also says "Linux".

const browsers: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  [/\bChrom(e|ium)\/|\bCriOS\//, "Chrome"],
  [/\bSafari\//, "Safari"],
  [/^curl\//, "curl"],
  [/^rclone\//, "rclone"],
  [/^filestore-cli\b|^filestore\//, "filestore CLI"],
  [/\bBun\//, "Bun"],
  [/^node\b|\bnode-fetch\b|\bundici\b/, "Node.js"],
];
const systems: [RegExp, string][] = [
  [/\bAndroid\b/, "Android"],
  [/\biPhone\b|\biPad\b|\biOS\b/, "iOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

export function describeAgent(userAgent: string): string {
  if (!userAgent.trim()) return "Unknown device";
  const browser = browsers.find(([re]) => re.test(userAgent))?.[1];
  const system = systems.find(([re]) => re.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 40);
}
