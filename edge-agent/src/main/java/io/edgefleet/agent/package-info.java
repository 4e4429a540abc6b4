/**
 * The edge agent (issues "Inference engines" and "Edge agent"): inference engines, model
 * slots, local HTTP/CoAP/MQTT APIs, telemetry store-and-forward, cloud fallback client.
 *
 * <p>Nothing is implemented here yet; see {@code docs/architecture.md}.
 */
package io.edgefleet.agent;
