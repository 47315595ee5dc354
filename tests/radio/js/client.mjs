// The official Meshtastic JavaScript client (@meshtastic/core over @meshtastic/transport-node, TCP)
// against two virtual radios that hear each other. Usage: node client.mjs HOST PORT_A PORT_B
// A connects and configures, B too; A broadcasts a text with wantAck (resolved by the implicit
// ACK of B's relay), B answers with a direct text with wantAck (resolved by A's radio's ACK).
// Prints one line "RESULT {json}" for tests/radio/test_js_client.py.
import { MeshDevice, Types } from "@meshtastic/core";
import { TransportNode } from "@meshtastic/transport-node";

const [host, portA, portB] = process.argv.slice(2);
const STEP_TIMEOUT_MS = 30000;

function within(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT_MS)),
  ]);
}

async function connect(port) {
  const transport = await TransportNode.create(host, Number(port));
  const device = new MeshDevice(transport);
  device.log.settings.minLevel = 5; // errors only: keep stdout for the result line
  const seen = { myNodeNum: 0, nodes: [], channels: [], configs: [], moduleConfigs: [], metadata: null, texts: [] };
  device.events.onMyNodeInfo.subscribe((info) => { seen.myNodeNum = info.myNodeNum; });
  device.events.onNodeInfoPacket.subscribe((info) => {
    seen.nodes.push({ num: info.num, longName: info.user?.longName ?? "", hasPublicKey: (info.user?.publicKey?.length ?? 0) === 32,
      channelUtilization: info.deviceMetrics?.channelUtilization ?? null });
  });
  device.events.onChannelPacket.subscribe((channel) => { seen.channels.push({ index: channel.index, role: channel.role }); });
  device.events.onConfigPacket.subscribe((config) => { seen.configs.push(config.payloadVariant.case); });
  device.events.onModuleConfigPacket.subscribe((config) => { seen.moduleConfigs.push(config.payloadVariant.case); });
  device.events.onDeviceMetadataPacket.subscribe((meta) => { seen.metadata = meta.data.firmwareVersion; });
  device.events.onMessagePacket.subscribe((message) => {
    seen.texts.push({ from: message.from, to: message.to, type: message.type, text: message.data });
  });
  const configured = new Promise((resolve) => {
    device.events.onDeviceStatus.subscribe((status) => {
      if (status === Types.DeviceStatusEnum.DeviceConfigured) resolve();
    });
  });
  device.configure().catch(() => {}); // its own promise only settles on the queue timeout
  await within(configured, `configure handshake on port ${port}`);
  return { device, seen };
}

function textFrom(seen, sender, text) {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (seen.texts.some((t) => t.from === sender && t.text === text)) { clearInterval(check); resolve(); }
    }, 50);
  });
}

const a = await connect(portA);
const b = await connect(portB);
const broadcastText = "hello from the JS client";
const broadcastAck = await within(a.device.sendText(broadcastText, "broadcast", true), "ACK of the broadcast");
await within(textFrom(b.seen, a.seen.myNodeNum, broadcastText), "the broadcast at B");
const directText = "and back, directly";
const directAck = await within(b.device.sendText(directText, a.seen.myNodeNum, true), "ACK of the direct text");
await within(textFrom(a.seen, b.seen.myNodeNum, directText), "the direct text at A");
console.log("RESULT " + JSON.stringify({ a: a.seen, b: b.seen, broadcastAck, directAck }));
await a.device.disconnect().catch(() => {});
await b.device.disconnect().catch(() => {});
process.exit(0);
