package io.edgefleet.cloud.ingest;

/** Acknowledges one MQTT message to the broker; called once the batch is durable downstream. */
@FunctionalInterface
public interface Ack {
    void ack();
}
