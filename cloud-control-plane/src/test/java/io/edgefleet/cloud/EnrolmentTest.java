package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.identity.AgentIdentity;
import io.edgefleet.agent.identity.EnrolmentSettings;
import io.edgefleet.agent.identity.IdentityException;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.pki.Revocation;
import io.edgefleet.protocols.Json;
import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.EnrolmentToken;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enrolment against a real control plane over real HTTP: fleet and device tokens, every refusal
 * (401 problem JSON with nothing issued, 403 for another device, 400 for a CSR that does not
 * verify), what the agent stores and sends, revocation in the CRL and the query.
 */
class EnrolmentTest {
    static final ObjectMapper JSON = Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static RecordingProxy proxy;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")));
        ops = client(cp, OPERATOR);
        proxy = new RecordingProxy(base());
    }

    @AfterAll
    static void stop() {
        proxy.close();
        cp.close();
    }

    static URI base() {
        return URI.create("http://127.0.0.1:" + cp.port());
    }

    static JsonNode createToken(String fleet, String device, int uses, int ttlSeconds) {
        Map<String, Object> body = new HashMap<>();
        body.put("fleet", fleet);
        if (device != null) {
            body.put("device", device);
        }
        body.put("uses", uses);
        body.put("ttlSeconds", ttlSeconds);
        CloudClient.Response r = ops.post("/api/v1/enrolment-tokens", body);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json();
    }

    /** A raw enrolment request: the token as Bearer, a fresh key's CSR, optionally a device id. */
    static HttpResponse<String> enrol(String token, String device, String csrPem) throws Exception {
        Map<String, Object> body = new HashMap<>();
        body.put("csr", csrPem);
        if (device != null) {
            body.put("device", device);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(base().resolve("/api/v1/enrol")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String csr(String fleet, String device) {
        return Pem.write(Csr.create(KeyPairs.ecP256(), Identity.device(fleet, device)));
    }

    static EnrolmentSettings settings(URI url, String token) {
        return EnrolmentSettings.of(url, Optional.ofNullable(token)).withRetry(Duration.ofMillis(50), Duration.ofMillis(200))
                .withEnrolTimeout(Duration.ofSeconds(5));
    }

    static int certificateRows() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + cp.config().dataDir().resolve("cloud.db"));
                ResultSet r = c.createStatement().executeQuery("SELECT COUNT(*) FROM certificates")) {
            return r.getInt(1);
        }
    }

    static void assertUnauthorizedProblem(HttpResponse<String> r, String detailFragment) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        JsonNode p = JSON.readTree(r.body());
        assertThat(p.path("status").asInt()).isEqualTo(401);
        assertThat(p.path("detail").asText()).contains(detailFragment);
    }

    @Test
    void an_agent_enrols_with_a_fleet_token_keeps_its_key_at_0600_and_sends_only_a_csr() throws Exception {
        JsonNode created = createToken("plant-1", null, 2, 600);
        String token = created.path("token").asText();
        assertThat(created.path("caSha256").asText()).isEqualTo(EnrolmentToken.fingerprint(cp.pki().authority().certificate()));
        Path data = dir.resolve("agent-cam-1");
        AgentConfig config = AgentConfig.defaults(data).withHttp("127.0.0.1", -1).withCoapPort(-1).withIdentity("plant-1", "cam-1")
                .withEnrolment(settings(proxy.uri(), token));
        try (EdgeAgent agent = EdgeAgent.start(config)) {
            AgentIdentity id = agent.identity().orElseThrow();
            assertThat(id.identity()).isEqualTo(Identity.device("plant-1", "cam-1"));
            Path idDir = data.resolve("identity");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(idDir.resolve("key.pem")))).isEqualTo("rw-------");
            X509Certificate cert = Pem.certificates(Files.readString(idDir.resolve("cert.pem"))).getFirst();
            assertThat(Certificates.identity(cert)).isEqualTo(Identity.device("plant-1", "cam-1"));
            cert.verify(Pem.certificates(Files.readString(idDir.resolve("ca.pem"))).getFirst().getPublicKey());
            assertThat(id.sslContext()).isNotNull();

            // what went over the wire: one enrolment carrying a CSR over the stored key, nothing private
            List<RecordingProxy.Exchange> sent = proxy.to("/api/v1/enrol");
            assertThat(sent).hasSize(1);
            JsonNode body = JSON.readTree(sent.getFirst().body());
            List<String> fields = new ArrayList<>();
            body.fieldNames().forEachRemaining(fields::add);
            assertThat(fields).containsExactlyInAnyOrder("csr", "device");
            assertThat(body.path("device").asText()).isEqualTo("cam-1");
            var csr = Pem.csr(body.path("csr").asText());
            assertThat(new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(csr).getPublicKey()).isEqualTo(cert.getPublicKey());
            String raw = new String(sent.getFirst().body(), StandardCharsets.US_ASCII);
            assertThat(raw).doesNotContain("PRIVATE KEY");
            String keyBase64 = Files.readString(idDir.resolve("key.pem")).lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
            assertThat(raw).doesNotContain(keyBase64);
            for (RecordingProxy.Exchange e : proxy.exchanges) {
                assertThat(new String(e.body(), StandardCharsets.US_ASCII)).doesNotContain("PRIVATE KEY");
            }
        }
        // the token's second use cannot take over the enrolled device: a fleet token enrols new devices only
        int rows = certificateRows();
        HttpResponse<String> takeover = enrol(token, "cam-1", csr("plant-1", "cam-1"));
        assertThat(takeover.statusCode()).as(takeover.body()).isEqualTo(409);
        assertThat(takeover.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(certificateRows()).isEqualTo(rows);
        // the fleet registry knows the device as enrolled, the token has one use left, the event is recorded
        JsonNode device = ops.get("/api/v1/fleets/plant-1/devices/cam-1").json();
        assertThat(device.path("enrolledAt").isMissingNode() || device.path("enrolledAt").isNull()).isFalse();
        JsonNode listed = tokenListed(created.path("id").asText());
        assertThat(listed.path("usesLeft").asInt()).isEqualTo(1);
        assertThat(ops.get("/api/v1/events?subject=plant-1/cam-1").text()).contains("device.enrolled");
        // the audit has both calls: the enrolment with the device as actor, the refused takeover
        String audit = ops.get("/api/v1/audit?limit=1000").text();
        assertThat(audit).contains("\"actor\":\"plant-1/cam-1\"").contains("/api/v1/enrol").contains("409");

        // a restart loads the stored identity without enrolling again (the token is no longer needed)
        int enrolments = proxy.to("/api/v1/enrol").size();
        try (AgentIdentity again = AgentIdentity.open(data.resolve("identity"), "plant-1", "cam-1", settings(proxy.uri(), null), Clock.systemUTC())) {
            assertThat(again.certificate().getSerialNumber()).isEqualTo(
                    Pem.certificates(Files.readString(data.resolve("identity/cert.pem"))).getFirst().getSerialNumber());
        }
        assertThat(proxy.to("/api/v1/enrol")).hasSize(enrolments);
    }

    @Test
    void over_https_the_agent_fetches_the_ca_checks_the_pin_and_enrols_trusting_only_that_ca() throws Exception {
        KeyPair serverKeys = KeyPairs.ecP256();
        X509Certificate serverCert = cp.pki().authority().issueServer(serverKeys.getPublic(), Identity.service("cloud-control"),
                List.of("127.0.0.1"), Duration.ofHours(1));
        var tls = io.edgefleet.transport.pki.TlsContexts.of(serverKeys.getPrivate(), List.of(serverCert),
                List.of(cp.pki().authority().certificate()));
        try (RecordingProxy https = new RecordingProxy(base(), tls)) {
            String token = createToken("plant-9", "tls-1", 1, 600).path("token").asText();
            try (AgentIdentity id = AgentIdentity.open(dir.resolve("tls-1"), "plant-9", "tls-1", settings(https.uri(), token), Clock.systemUTC())) {
                assertThat(Certificates.identity(id.certificate())).isEqualTo(Identity.device("plant-9", "tls-1"));
                assertThat(https.to("/api/v1/pki/ca.pem")).hasSize(1);
                assertThat(https.to("/api/v1/enrol")).singleElement().satisfies(e -> assertThat(e.status()).isEqualTo(201));
                BigInteger first = id.certificate().getSerialNumber();
                assertThat(id.renew().getSerialNumber()).isNotEqualTo(first);
                assertThat(https.to("/api/v1/certificates/renew")).singleElement().satisfies(e -> assertThat(e.status()).isEqualTo(201));
            }
        }
        // a TLS front with a certificate from another CA: the CA download may pass, the enrolment itself is refused by the client
        var impostor = io.edgefleet.transport.pki.CertificateAuthority.create("impostor", Duration.ofDays(1));
        KeyPair k = KeyPairs.ecP256();
        var fake = io.edgefleet.transport.pki.TlsContexts.of(k.getPrivate(), List.of(impostor.issueServer(k.getPublic(),
                Identity.service("cloud-control"), List.of("127.0.0.1"), Duration.ofHours(1))), List.of());
        try (RecordingProxy mitm = new RecordingProxy(base(), fake)) {
            String token = createToken("plant-9", "tls-2", 1, 600).path("token").asText();
            assertThatThrownBy(() -> AgentIdentity.open(dir.resolve("tls-2"), "plant-9", "tls-2", settings(mitm.uri(), token).withEnrolTimeout(
                    Duration.ZERO), Clock.systemUTC())).isInstanceOf(IdentityException.class);
            assertThat(mitm.to("/api/v1/enrol")).isEmpty(); // the token never reached the impostor
        }
    }

    @Test
    void a_revocation_written_by_another_replica_reaches_the_query_on_refresh() throws Exception {
        String token = createToken("plant-10", "r-9", 1, 600).path("token").asText();
        try (AgentIdentity id = AgentIdentity.open(dir.resolve("r-9"), "plant-10", "r-9", settings(base(), token), Clock.systemUTC());
                io.edgefleet.cloud.store.CloudStore other = io.edgefleet.cloud.store.CloudStore.open(cp.config().dataDir())) {
            new io.edgefleet.cloud.store.PkiRepository(other).revokeDevice("plant-10", "r-9", java.time.Instant.now());
            // (the control plane's housekeeping also refreshes every 5 s, so whether this call or that one sees it first is not asserted)
            cp.pki().refresh();
            assertThat(cp.pki().isRevoked(id.certificate().getSerialNumber())).isTrue();
            assertThat(cp.pki().current(Identity.device("plant-10", "r-9"))).isEmpty();
        }
    }

    static JsonNode tokenListed(String id) {
        CloudClient.Response list = client(cp, VIEWER).get("/api/v1/enrolment-tokens");
        assertThat(list.status()).isEqualTo(200);
        for (JsonNode t : list.json()) {
            if (t.path("id").asText().equals(id)) {
                return t;
            }
        }
        throw new AssertionError("token " + id + " not listed: " + list.text());
    }

    @Test
    void a_device_token_enrols_its_device_and_is_refused_for_another_device_id() throws Exception {
        JsonNode created = createToken("plant-2", "gate-1", 1, 600);
        String token = created.path("token").asText();
        int before = certificateRows();
        HttpResponse<String> other = enrol(token, "gate-2", csr("plant-2", "gate-2"));
        assertThat(other.statusCode()).as(other.body()).isEqualTo(403);
        assertThat(other.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(JSON.readTree(other.body()).path("detail").asText()).contains("plant-2/gate-1").contains("gate-2");
        assertThat(certificateRows()).isEqualTo(before);
        assertThat(tokenListed(created.path("id").asText()).path("usesLeft").asInt()).isEqualTo(1);

        try (AgentIdentity id = AgentIdentity.open(dir.resolve("gate-1"), "plant-2", "gate-1", settings(base(), token), Clock.systemUTC())) {
            assertThat(Certificates.identity(id.certificate())).isEqualTo(Identity.device("plant-2", "gate-1"));
            assertThat(cp.pki().current(Identity.device("plant-2", "gate-1"))).containsExactly(id.certificate());
        }
        assertThat(certificateRows()).isEqualTo(before + 1);
    }

    @Test
    void used_up_expired_revoked_unknown_and_malformed_tokens_are_refused_with_401_and_nothing_is_issued() throws Exception {
        String used = createToken("plant-3", null, 1, 600).path("token").asText();
        assertThat(enrol(used, "a", csr("plant-3", "a")).statusCode()).isEqualTo(201);
        String expired = createToken("plant-3", null, 5, 1).path("token").asText();
        JsonNode revokedToken = createToken("plant-3", null, 5, 600);
        CloudClient.Response del = ops.delete("/api/v1/enrolment-tokens/" + revokedToken.path("id").asText());
        assertThat(del.status()).as(del.text()).isEqualTo(200);
        assertThat(del.json().path("status").asText()).isEqualTo("revoked");
        EnrolmentToken real = EnrolmentToken.parse(used);
        String unknown = EnrolmentToken.generate(cp.pki().authority().certificate()).text();
        String wrongSecret = new EnrolmentToken(real.id(), EnrolmentToken.generate(cp.pki().authority().certificate()).secret(), real.caSha256()).text();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (tokenListed(EnrolmentToken.parse(expired).id()).path("status").asText().equals("active")) { // a 1 s TTL, seen from the server's clock
            assertThat(System.nanoTime()).as("token expiry").isLessThan(deadline);
            Thread.sleep(100);
        }
        int before = certificateRows();
        assertUnauthorizedProblem(enrol(used, "b", csr("plant-3", "b")), "no uses left");
        assertUnauthorizedProblem(enrol(expired, "b", csr("plant-3", "b")), "expired");
        assertUnauthorizedProblem(enrol(revokedToken.path("token").asText(), "b", csr("plant-3", "b")), "revoked");
        assertUnauthorizedProblem(enrol(unknown, "b", csr("plant-3", "b")), "not valid");
        assertUnauthorizedProblem(enrol(wrongSecret, "b", csr("plant-3", "b")), "not valid");
        assertUnauthorizedProblem(enrol("not-a-token", "b", csr("plant-3", "b")), "not an enrolment token");
        assertUnauthorizedProblem(enrol(null, "b", csr("plant-3", "b")), "Bearer");
        // an operator's API token is not an enrolment token
        assertUnauthorizedProblem(enrol(OPERATOR, "b", csr("plant-3", "b")), "not an enrolment token");
        assertThat(certificateRows()).isEqualTo(before);
        assertThat(cp.pki().current(Identity.device("plant-3", "b"))).isEmpty();
        assertThat(ops.get("/api/v1/events?subject=plant-3/b").text()).doesNotContain("device.enrolled");
        // no secret in any answer or listing
        String listing = client(cp, VIEWER).get("/api/v1/enrolment-tokens").text();
        for (String t : List.of(used, expired, revokedToken.path("token").asText())) {
            assertThat(listing).doesNotContain(EnrolmentToken.parse(t).secret());
        }
    }

    @Test
    void tokens_are_stored_as_the_sha256_of_their_secret_only() throws Exception {
        JsonNode created = createToken("plant-4", null, 1, 600);
        EnrolmentToken t = EnrolmentToken.parse(created.path("token").asText());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + cp.config().dataDir().resolve("cloud.db"));
                ResultSet r = c.createStatement().executeQuery("SELECT * FROM enrolment_tokens WHERE id = '" + t.id() + "'")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getBytes("hash")).isEqualTo(MessageDigest.getInstance("SHA-256").digest(t.secret().getBytes(StandardCharsets.US_ASCII)));
            for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
                assertThat(String.valueOf(r.getObject(i))).doesNotContain(t.secret());
            }
        }
    }

    @Test
    void a_csr_whose_signature_does_not_verify_is_refused_with_400_and_the_token_keeps_its_use() throws Exception {
        JsonNode created = createToken("plant-5", null, 1, 600);
        KeyPair keys = KeyPairs.ecP256();
        byte[] der = Csr.create(keys, Identity.device("plant-5", "x")).getEncoded();
        der[der.length - 5] ^= 0x01; // inside the signature: the request no longer proves possession of its key
        String pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END CERTIFICATE REQUEST-----\n";
        int before = certificateRows();
        HttpResponse<String> r = enrol(created.path("token").asText(), "x", pem);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(JSON.readTree(r.body()).path("detail").asText()).contains("CSR");
        HttpResponse<String> garbage = enrol(created.path("token").asText(), "x", "not pem");
        assertThat(garbage.statusCode()).isEqualTo(400);
        assertThat(certificateRows()).isEqualTo(before);
        assertThat(tokenListed(created.path("id").asText()).path("usesLeft").asInt()).isEqualTo(1);
    }

    @Test
    void an_agent_refuses_a_control_plane_whose_ca_is_not_the_one_its_token_pins_and_sends_no_csr() throws Exception {
        EnrolmentToken good = EnrolmentToken.parse(createToken("plant-6", null, 1, 600).path("token").asText());
        String otherCa = EnrolmentToken.fingerprint(io.edgefleet.transport.pki.CertificateAuthority.create("impostor", Duration.ofDays(1)).certificate());
        String pinnedElsewhere = new EnrolmentToken(good.id(), good.secret(), otherCa).text();
        int before = proxy.to("/api/v1/enrol").size();
        assertThatThrownBy(() -> AgentIdentity.open(dir.resolve("pinned"), "plant-6", "p", settings(proxy.uri(), pinnedElsewhere), Clock.systemUTC()))
                .isInstanceOfSatisfying(IdentityException.class, e -> {
                    assertThat(e.retriable()).isFalse();
                    assertThat(e.getMessage()).contains("pins").doesNotContain(good.secret());
                });
        assertThat(proxy.to("/api/v1/enrol")).hasSize(before);
        assertThat(tokenListed(good.id()).path("usesLeft").asInt()).isEqualTo(1);
    }

    @Test
    void a_revoked_device_appears_in_the_crl_and_the_query_and_can_no_longer_renew() throws Exception {
        String token = createToken("plant-7", "cam-9", 1, 600).path("token").asText();
        List<Revocation> heard = new CopyOnWriteArrayList<>();
        cp.pki().onRevocation(heard::add);
        try (AgentIdentity id = AgentIdentity.open(dir.resolve("cam-9"), "plant-7", "cam-9", settings(base(), token), Clock.systemUTC())) {
            BigInteger serial = id.certificate().getSerialNumber();
            assertThat(cp.pki().isRevoked(serial)).isFalse();

            assertThat(client(cp, VIEWER).post("/api/v1/fleets/plant-7/devices/cam-9/revoke", Map.of()).status()).isEqualTo(403);
            assertThat(cp.pki().isRevoked(serial)).isFalse();
            CloudClient.Response r = ops.post("/api/v1/fleets/plant-7/devices/cam-9/revoke", Map.of());
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.json().path("revoked").get(0).asText()).isEqualTo(serial.toString(16));

            assertThat(cp.pki().isRevoked(serial)).isTrue();
            assertThat(cp.pki().current(Identity.device("plant-7", "cam-9"))).isEmpty();
            assertThat(heard).singleElement().satisfies(rv -> {
                assertThat(rv.identity()).isEqualTo(Identity.device("plant-7", "cam-9"));
                assertThat(rv.serials()).containsExactly(serial);
                assertThat(rv.actor()).hasValue("ops");
            });
            assertThat(ops.get("/api/v1/events?subject=plant-7/cam-9").text()).contains("device.revoked");

            HttpResponse<byte[]> crlResponse = HTTP.send(HttpRequest.newBuilder(base().resolve("/api/v1/pki/crl")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(crlResponse.statusCode()).isEqualTo(200);
            assertThat(crlResponse.headers().firstValue("Content-Type")).hasValue("application/pkix-crl");
            X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new java.io.ByteArrayInputStream(crlResponse.body()));
            crl.verify(cp.pki().authority().certificate().getPublicKey());
            assertThat(crl.getRevokedCertificate(serial)).isNotNull();
            assertThat(crl.isRevoked(id.certificate())).isTrue();

            assertThatThrownBy(id::renew).isInstanceOfSatisfying(IdentityException.class, e -> {
                assertThat(e.retriable()).isFalse();
                assertThat(e.getMessage()).contains("401").contains("revoked");
            });
            assertThat(id.certificate().getSerialNumber()).isEqualTo(serial); // the agent keeps what it has
        }
        assertThat(ops.post("/api/v1/fleets/plant-7/devices/never-enrolled/revoke", Map.of()).status()).isEqualTo(404);
    }

    @Test
    void renewal_needs_a_signature_by_the_current_key_and_a_certificate_of_this_ca() throws Exception {
        String token = createToken("plant-8", null, 1, 600).path("token").asText();
        try (AgentIdentity id = AgentIdentity.open(dir.resolve("r-1"), "plant-8", "r-1", settings(base(), token), Clock.systemUTC())) {
            KeyPair thief = KeyPairs.ecP256();
            var csr = Csr.create(thief, Identity.device("plant-8", "r-1"));
            // a thief holding only the (public) certificate signs with its own key
            HttpResponse<String> r = renew(Pem.write(id.certificate()), Pem.write(csr), io.edgefleet.transport.pki.Possession.sign(thief.getPrivate(),
                    csr.getEncoded()));
            assertUnauthorizedProblem(r, "signature");
            // a certificate from another CA, properly signed with its key
            var other = io.edgefleet.transport.pki.CertificateAuthority.create("other", Duration.ofDays(1));
            X509Certificate foreign = other.issue(csr, Identity.device("plant-8", "r-1"), Duration.ofHours(1));
            assertUnauthorizedProblem(renew(Pem.write(foreign), Pem.write(csr),
                    io.edgefleet.transport.pki.Possession.sign(thief.getPrivate(), csr.getEncoded())), "CA");
            assertThat(cp.pki().current(Identity.device("plant-8", "r-1"))).containsExactly(id.certificate());

            BigInteger first = id.certificate().getSerialNumber();
            X509Certificate renewed = id.renew();
            assertThat(renewed.getSerialNumber()).isNotEqualTo(first);
            assertThat(Certificates.identity(renewed)).isEqualTo(Identity.device("plant-8", "r-1"));
            assertThat(cp.pki().current(Identity.device("plant-8", "r-1"))).hasSize(2).first().isEqualTo(renewed);
        }
    }

    static HttpResponse<String> renew(String certPem, String csrPem, byte[] signature) throws Exception {
        Map<String, Object> body = Map.of("certificate", certPem, "csr", csrPem, "signature", Base64.getEncoder().encodeToString(signature));
        return HTTP.send(HttpRequest.newBuilder(base().resolve("/api/v1/certificates/renew")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void token_management_needs_an_operator_and_validates_its_arguments() {
        CloudClient viewer = client(cp, VIEWER);
        assertThat(viewer.post("/api/v1/enrolment-tokens", Map.of("fleet", "f")).status()).isEqualTo(403);
        assertThat(client(cp, null).get("/api/v1/enrolment-tokens").status()).isEqualTo(401);
        assertThat(ops.post("/api/v1/enrolment-tokens", Map.of("fleet", "f", "uses", 0)).status()).isEqualTo(400);
        assertThat(ops.post("/api/v1/enrolment-tokens", Map.of("fleet", "f", "ttlSeconds", 30 * 86400)).status()).isEqualTo(400);
        assertThat(ops.post("/api/v1/enrolment-tokens", Map.of("fleet", "bad fleet!")).status()).isEqualTo(400);
        assertThat(ops.post("/api/v1/enrolment-tokens", Map.of()).status()).isEqualTo(400);
        assertThat(ops.delete("/api/v1/enrolment-tokens/0000000000000000").status()).isEqualTo(404);
        JsonNode ca = null;
        CloudClient.Response pem = client(cp, null).get("/api/v1/pki/ca.pem");
        assertThat(pem.status()).isEqualTo(200);
        assertThat(Pem.certificates(pem.text())).containsExactly(cp.pki().authority().certificate());
        assertThat(ca).isNull();
    }
}
