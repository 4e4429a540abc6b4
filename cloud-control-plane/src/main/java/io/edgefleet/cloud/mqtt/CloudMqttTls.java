package io.edgefleet.cloud.mqtt;

import io.edgefleet.transport.mqtt.MqttTls;
import java.nio.file.Path;
import java.util.Objects;

/**
 * MQTT over TLS for the control plane: each role connects with its own identity, because the
 * broker grants rights per identity ({@code cloud-control} publishes commands and reads states and
 * acknowledgements; {@code cloud-ingest} reads telemetry).
 *
 * @param control the control role's TLS (certificate CN {@code cloud-control})
 * @param ingest the ingest role's TLS (certificate CN {@code cloud-ingest})
 */
public record CloudMqttTls(MqttTls control, MqttTls ingest) {
    public CloudMqttTls {
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(ingest, "ingest");
    }

    /** Both roles from PEM files, read again at every connect (a renewed certificate is used at the next one). */
    public static CloudMqttTls fromPem(Path caFile, Path controlKey, Path controlCert, Path ingestKey, Path ingestCert) {
        return new CloudMqttTls(MqttTls.fromPem(caFile, controlKey, controlCert), MqttTls.fromPem(caFile, ingestKey, ingestCert));
    }
}
