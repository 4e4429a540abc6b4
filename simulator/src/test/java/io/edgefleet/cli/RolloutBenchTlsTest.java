package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.broker.MosquittoConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code edgefleet rollout bench --tls} at a handful of devices: a real secured Mosquitto (client
 * certificates required, dynamic-security rights), a real control-plane process on HTTPS with its
 * service identities on {@code ssl://}, and virtual devices with certificates from its CA for MQTT and
 * for sync (mTLS). The full-size runs and their ratios are in docs/benchmarks.md.
 */
class RolloutBenchTlsTest {
    @Test
    void the_tls_mode_rolls_out_to_every_device_over_client_certificates() {
        Assumptions.assumeTrue(AgentBench.mosquitto().isPresent(), "mosquitto is not installed");
        Assumptions.assumeTrue(Files.exists(MosquittoConfig.DEBIAN_PLUGIN), "mosquitto's dynamic-security plugin is not installed");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), "rollout", "bench", "--devices", "3", "--tls");
        assertThat(rc).as(out + "\n" + err).isEqualTo(Main.OK);
        assertThat(out.toString())
                .contains("MQTT over TLS and HTTPS with a client certificate per device")
                .contains("3 device certificates (EC P-256 key, CSR, issued by the control plane's CA)")
                .contains("3 sessions connected and registered")
                .contains(": succeeded, 3/3 devices on the new version")
                .contains("exactly one per device and intent");
    }
}
