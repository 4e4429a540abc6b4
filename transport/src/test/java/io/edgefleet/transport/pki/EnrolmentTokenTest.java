package io.edgefleet.transport.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The enrolment token's one-string format pins the CA; renewal proofs verify only with the certified key. */
class EnrolmentTokenTest {
    static final CertificateAuthority CA = CertificateAuthority.create("token test CA", Duration.ofDays(1));
    static final CertificateAuthority OTHER = CertificateAuthority.create("another CA", Duration.ofDays(1));

    @Test
    void a_token_round_trips_pins_its_ca_only_and_never_prints_its_secret() {
        EnrolmentToken t = EnrolmentToken.generate(CA.certificate());
        assertThat(t.text()).startsWith("ef1." + t.id() + ".").hasSize(3 + 1 + 16 + 1 + 43 + 1 + 64);
        assertThat(EnrolmentToken.parse(t.text())).isEqualTo(t);
        assertThat(t.pins(CA.certificate())).isTrue();
        assertThat(t.pins(OTHER.certificate())).isFalse();
        assertThat(t.toString()).doesNotContain(t.secret());
        assertThat(t.secretHash()).hasSize(32);
        assertThat(EnrolmentToken.generate(CA.certificate()).secret()).isNotEqualTo(t.secret());
    }

    @Test
    void malformed_tokens_are_refused_without_echoing_them() {
        EnrolmentToken t = EnrolmentToken.generate(CA.certificate());
        for (String bad : new String[] {"", "ef1", t.text().replace("ef1.", "ef2."), t.text() + ".x", t.text().substring(0, t.text().length() - 1),
                t.text().replace(t.id(), t.id().toUpperCase())}) {
            assertThatThrownBy(() -> EnrolmentToken.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(t.secret()));
        }
    }

    @Test
    void a_possession_proof_verifies_only_with_the_certified_key_and_the_signed_bytes() {
        KeyPair keys = KeyPairs.ecP256();
        var cert = CA.issue(Csr.create(keys, Identity.device("f", "d")), Identity.device("f", "d"), Duration.ofHours(1));
        byte[] data = "new csr der".getBytes();
        byte[] sig = Possession.sign(keys.getPrivate(), data);
        assertThat(Possession.verifies(cert, data, sig)).isTrue();
        assertThat(Possession.verifies(cert, "other bytes".getBytes(), sig)).isFalse();
        assertThat(Possession.verifies(cert, data, Possession.sign(KeyPairs.ecP256().getPrivate(), data))).isFalse();
        assertThat(Possession.verifies(cert, data, new byte[] {1, 2, 3})).isFalse();
    }
}
