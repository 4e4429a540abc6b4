package io.edgefleet.transport.signing;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each way a sender can fail to prove itself is refused with its own reason; a genuine message passes. */
class SenderSignatureTest {
    static final CertificateAuthority CA = CertificateAuthority.create("test CA", Duration.ofDays(1));
    static final Identity A = Identity.device("plant", "cam-a");
    static final Identity B = Identity.device("plant", "cam-b");
    static final String TOPIC_A = "ef/v1/plant/cam-a/telemetry";
    static final byte[] PAYLOAD = "{\"sequence\":1}".getBytes(StandardCharsets.UTF_8);

    record Enrolled(KeyPair keys, X509Certificate cert, MessageSigner signer) {
    }

    static Enrolled enrol(CertificateAuthority ca, Identity id) {
        KeyPair k = KeyPairs.ecP256();
        X509Certificate c = ca.issue(Csr.create(k, id), id, Duration.ofHours(1));
        return new Enrolled(k, c, new MessageSigner(k.getPrivate(), c));
    }

    final Enrolled a = enrol(CA, A);
    final Enrolled b = enrol(CA, B);
    final InMemoryDeviceCertificates certs = new InMemoryDeviceCertificates().add(a.cert()).add(b.cert());
    final SenderVerifier verifier = new SenderVerifier(certs);

    Verdict verify(Identity claimed, String topic, byte[] payload, List<Map.Entry<String, String>> props) {
        return verifier.verify(claimed, topic, payload, props, Instant.now());
    }

    @Test
    void a_message_signed_by_the_identity_its_topic_names_is_accepted() {
        assertThat(verify(A, TOPIC_A, PAYLOAD, a.signer().sign(TOPIC_A, PAYLOAD).userProperties()).isAccepted()).isTrue();
    }

    @Test
    void unsigned_malformed_and_unenrolled_senders_are_refused() {
        assertThat(verify(A, TOPIC_A, PAYLOAD, List.of()).refusal()).contains(Refusal.UNSIGNED);
        assertThat(verify(A, TOPIC_A, PAYLOAD, List.of(Map.entry(SenderSignature.SIGNATURE, "!!"), Map.entry(SenderSignature.SERIAL, "1")))
                .refusal()).contains(Refusal.MALFORMED);
        Identity ghost = Identity.device("plant", "ghost");
        assertThat(verify(ghost, "ef/v1/plant/ghost/state", PAYLOAD, a.signer().sign("ef/v1/plant/ghost/state", PAYLOAD).userProperties())
                .refusal()).contains(Refusal.NOT_ENROLLED);
    }

    @Test
    void device_b_signing_with_its_own_key_on_a_topic_cannot_pass_as_a() {
        Verdict v = verify(A, TOPIC_A, PAYLOAD, b.signer().sign(TOPIC_A, PAYLOAD).userProperties());
        assertThat(v.refusal()).contains(Refusal.FOREIGN_CERTIFICATE);
        // Claiming A's serial with B's key: the signature does not verify with A's public key.
        List<Map.Entry<String, String>> forged = new ArrayList<>(b.signer().sign(TOPIC_A, PAYLOAD).userProperties());
        forged.set(1, Map.entry(SenderSignature.SERIAL, a.cert().getSerialNumber().toString(16)));
        assertThat(verify(A, TOPIC_A, PAYLOAD, forged).refusal()).contains(Refusal.BAD_SIGNATURE);
    }

    @Test
    void a_changed_payload_or_another_topic_breaks_the_signature() {
        var props = a.signer().sign(TOPIC_A, PAYLOAD).userProperties();
        byte[] changed = PAYLOAD.clone();
        changed[changed.length - 2] = '2';
        assertThat(verify(A, TOPIC_A, changed, props).refusal()).contains(Refusal.BAD_SIGNATURE);
        assertThat(verify(A, "ef/v1/plant/cam-a/state", PAYLOAD, props).refusal()).contains(Refusal.BAD_SIGNATURE);
    }

    @Test
    void a_revoked_or_expired_certificate_is_refused() {
        var props = a.signer().sign(TOPIC_A, PAYLOAD).userProperties();
        assertThat(verifier.verify(A, TOPIC_A, PAYLOAD, props, Instant.now().plus(Duration.ofDays(2))).refusal()).contains(Refusal.EXPIRED);
        certs.revoke(a.cert().getSerialNumber());
        assertThat(verify(A, TOPIC_A, PAYLOAD, props).refusal()).contains(Refusal.REVOKED);
    }

    @Test
    void an_agent_runs_only_commands_signed_by_the_ca_issued_control_plane_certificate_for_its_own_topic() {
        String own = "ef/v1/plant/cam-a/cmd";
        CommandVerifier cv = new CommandVerifier(CA.certificate(), own);
        Enrolled control = enrol(CA, Identity.service(CommandVerifier.COMMAND_SERVICE));
        Verdict ok = cv.verify(own, PAYLOAD, control.signer().signCommand(own, 42, PAYLOAD).userProperties(), Instant.now());
        assertThat(ok.isAccepted()).isTrue();
        assertThat(ok.sequence()).hasValue(42);

        assertThat(cv.verify(own, PAYLOAD, List.of(), Instant.now()).refusal()).contains(Refusal.UNSIGNED);
        // a device's certificate from the same CA is not the control plane
        assertThat(cv.verify(own, PAYLOAD, b.signer().signCommand(own, 43, PAYLOAD).userProperties(), Instant.now()).refusal())
                .contains(Refusal.UNTRUSTED_SIGNER);
        // a cloud-control certificate from another CA
        Enrolled rogue = enrol(CertificateAuthority.create("rogue CA", Duration.ofDays(1)), Identity.service(CommandVerifier.COMMAND_SERVICE));
        assertThat(cv.verify(own, PAYLOAD, rogue.signer().signCommand(own, 44, PAYLOAD).userProperties(), Instant.now()).refusal())
                .contains(Refusal.UNTRUSTED_SIGNER);
        // signed for another device, replayed on this one
        String other = "ef/v1/plant/cam-b/cmd";
        assertThat(cv.verify(own, PAYLOAD, control.signer().signCommand(other, 45, PAYLOAD).userProperties(), Instant.now()).refusal())
                .contains(Refusal.BAD_SIGNATURE);
        assertThat(cv.verify(other, PAYLOAD, control.signer().signCommand(other, 45, PAYLOAD).userProperties(), Instant.now()).refusal())
                .contains(Refusal.WRONG_TARGET);
        // the sequence is signed: raising it breaks the signature
        List<Map.Entry<String, String>> bumped = new ArrayList<>(control.signer().signCommand(own, 46, PAYLOAD).userProperties());
        bumped.set(2, Map.entry(SenderSignature.SEQUENCE, "4600"));
        assertThat(cv.verify(own, PAYLOAD, bumped, Instant.now()).refusal()).contains(Refusal.BAD_SIGNATURE);
    }
}
