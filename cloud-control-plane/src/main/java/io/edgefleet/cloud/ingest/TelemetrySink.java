package io.edgefleet.cloud.ingest;

import io.edgefleet.protocols.messages.TelemetryBatch;

/**
 * Where the MQTT bridge hands validated telemetry batches: Kafka ({@link KafkaSink}) or the
 * aggregates directly ({@link DirectSink}). A sink calls {@code ack} only once the batch is
 * durable on its side, and keeps trying (never acking) while its downstream is away, so the broker
 * keeps every unacknowledged message for redelivery.
 */
public interface TelemetrySink extends AutoCloseable {
    void submit(TelemetryBatch batch, byte[] raw, Ack ack);

    /** Batches accepted but not yet durable downstream. */
    int pending();

    @Override
    void close();
}
