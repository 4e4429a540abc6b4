package io.edgefleet.cloud.sender;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.signing.InMemoryDeviceCertificates;
import io.edgefleet.transport.signing.MessageSigner;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The gate's settings: each requirement refuses what it names, counted by reason; off, nothing is required. */
class SenderGateTest {
    static final CertificateAuthority CA = CertificateAuthority.create("gate CA", Duration.ofDays(1));
    static final byte[] PAYLOAD = "{}".getBytes();

    final KeyPair keys = KeyPairs.ecP256();
    final X509Certificate cert = CA.issue(Csr.create(keys, Identity.device("f", "d")), Identity.device("f", "d"), Duration.ofHours(1));
    final InMemoryDeviceCertificates certs = new InMemoryDeviceCertificates().add(cert);

    @Test
    void with_enrolment_required_an_unenrolled_device_registers_nothing_even_with_signatures_off() {
        SenderGate gate = new SenderGate(new SenderSettings(false, true, Optional.of(certs), Optional.empty(), 10_000, Duration.ofMinutes(5)),
                Clock.systemUTC());
        assertThat(gate.accept("ef/v1/f/d/state", PAYLOAD, List.of())).isTrue();
        assertThat(gate.accept("ef/v1/f/ghost/state", PAYLOAD, List.of())).isFalse();
        assertThat(gate.dropped()).containsEntry("not-enrolled", 1L);
    }

    @Test
    void with_signatures_required_only_the_named_devices_signature_passes() {
        SenderGate gate = new SenderGate(SenderSettings.signed(certs, new MessageSigner(keys.getPrivate(), cert)), Clock.systemUTC());
        MessageSigner d = new MessageSigner(keys.getPrivate(), cert);
        assertThat(gate.accept("ef/v1/f/d/telemetry", PAYLOAD, d.sign("ef/v1/f/d/telemetry", PAYLOAD).userProperties())).isTrue();
        assertThat(gate.accept("ef/v1/f/d/telemetry", PAYLOAD, List.of())).isFalse();
        assertThat(gate.accept("not/a/topic", PAYLOAD, List.of())).isFalse();
        assertThat(gate.dropped()).containsEntry("unsigned", 1L).containsEntry("bad-topic", 1L);
        assertThat(gate.droppedTotal()).isEqualTo(2);
    }

    @Test
    void off_nothing_is_required_and_requirements_without_certificates_do_not_start() {
        assertThat(SenderGate.open(Clock.systemUTC()).accept("ef/v1/f/anyone/state", PAYLOAD, List.of())).isTrue();
        // Settings may leave the certificates to the control plane's own CA (SenderSettings.withPki); a gate without any does not start.
        SenderSettings required = new SenderSettings(true, false, Optional.empty(), Optional.empty(), 10_000, Duration.ofMinutes(5));
        assertThatThrownBy(() -> new SenderGate(required, Clock.systemUTC()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("device certificates");
    }
}
