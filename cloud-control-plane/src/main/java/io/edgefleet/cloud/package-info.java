/**
 * The cloud control plane: one Helidon SE application with roles ({@code control}: model and
 * fleet registries, REST API; {@code ingest}: MQTT telemetry to Kafka to aggregates; {@code all}).
 * Start it with {@link io.edgefleet.cloud.ControlPlane#start}. See {@code docs/control-plane.md}.
 */
package io.edgefleet.cloud;
