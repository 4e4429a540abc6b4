/**
 * The MQTT broker's side of the zero-trust fleet: the secured Mosquitto configuration generated from
 * the EdgeFleet CA ({@link io.edgefleet.cloud.broker.MosquittoConfig}), runtime grants and revocations
 * through Mosquitto's dynamic-security plugin ({@link io.edgefleet.cloud.broker.DynamicSecurity}), and
 * the interfaces brokers are driven by ({@link io.edgefleet.cloud.broker.BrokerRevocation},
 * {@link io.edgefleet.cloud.broker.RevocationCheck}). The rights themselves are
 * {@link io.edgefleet.protocols.topics.TopicRights}. See {@code docs/security.md}.
 */
package io.edgefleet.cloud.broker;
