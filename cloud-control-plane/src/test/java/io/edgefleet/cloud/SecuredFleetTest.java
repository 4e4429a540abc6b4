package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.identity.AgentIdentity;
import io.edgefleet.agent.identity.EnrolmentSettings;
import io.edgefleet.cloud.broker.BrokerAdminSettings;
import io.edgefleet.cloud.broker.MosquittoConfig;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.sender.SenderSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.Mosquitto;
import io.edgefleet.testkit.MosquittoBroker;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.signing.MessageSigner;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zero-trust fleet end to end, deployed as an operator would (docs/security.md, "End to end
 * with Mosquitto"): the control plane's CA in its data folder, a secured Mosquitto generated from
 * it ({@link MosquittoConfig}: client certificates only, CRL, dynamic security) run as the real
 * binary, the control plane on HTTPS requiring signed messages from enrolled senders and
 * administering the broker's rights, and two real agents enrolling with a token made over the
 * REST API. A rollout reaches both (signed commands and acks over mutual TLS, models fetched over
 * mTLS); revoking one device disconnects it at the broker, its certificate is refused there and
 * by HTTPS, and the other device keeps working.
 */
class SecuredFleetTest {
    static final String FLEET = "e2e";
    static final String PROFILE = "raspberry-pi-4-4gb";
    @TempDir
    static Path dir;
    static MosquittoBroker broker;
    static ControlPlane cp;
    static CloudClient ops;
    static EdgeAgent d0;
    static EdgeAgent d1;

    @BeforeAll
    static void start() throws Exception {
        // 1. the operator's first step (`edgefleet broker mosquitto-config --data-dir cloud-data`): the CA in the control
        // plane's data folder, the broker's files and the control plane's broker-admin identity
        Path data = dir.resolve("cloud-data");
        Path pki = Files.createDirectories(data.resolve("pki"));
        CertificateAuthority ca = CertificateAuthority.loadOrCreate(pki, "EdgeFleet CA", Duration.ofDays(30));
        MosquittoConfig.writeAdmin(pki, ca, Duration.ofDays(1));
        broker = Mosquitto.startSecured(
                (port, folder) -> MosquittoConfig.securityLines("127.0.0.1", port, folder, MosquittoConfig.DEBIAN_PLUGIN),
                folder -> MosquittoConfig.writeSecurityFiles(folder, ca, List.of("127.0.0.1", "localhost"), Duration.ofDays(1),
                        List.of(), Map.of()));
        String url = "ssl://127.0.0.1:" + broker.port();
        // 2. the control plane: HTTPS (the default), signed messages from enrolled senders only, the broker's rights
        // administered (grant on enrolment, delete and CRL reload on revocation; an operator's reload command would be
        // `systemctl reload mosquitto`)
        cp = ControlPlane.start(CloudTestSupport.tlsConfig(data).withMqtt(url).withSenders(SenderSettings.required())
                .withBrokerAdmin(new BrokerAdminSettings(url, Duration.ofSeconds(30), Optional.empty(), List.of()).withCrlRefresh(broker.folder(), List.of("kill", "-HUP", Long.toString(pid(broker)))))
                .withRolloutTick(Duration.ofMillis(100)));
        ops = new CloudClient(cp.baseUri(), Optional.of(OPERATOR), Optional.of(CloudClient.trusting(pki.resolve("ca.pem"))));
        // 3. a model version in the registry, and an enrolment token for the fleet (two uses)
        CloudClient.Response pushed = ops.pushModel("cls", "2", List.of(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")))),
                List.of(PROFILE), Map.of(), n -> { });
        assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
        CloudClient.Response token = ops.post("/api/v1/enrolment-tokens", Map.of("fleet", FLEET, "uses", 2, "ttlSeconds", 600));
        assertThat(token.status()).as(token.text()).isEqualTo(201);
        String enrolment = token.json().path("token").asText();
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(cp.baseUri(), Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        Path base = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        // 4. two devices, each started with nothing but the token: key made on the device, certificate from the CA
        d0 = agent("d-0", enrolment, sync, base, url, io.edgefleet.agent.AgentTls.none());
        // d-1 as the README starts one: with the control plane's CA given (--cloud-ca), which only adds trust; the
        // enrolled certificate must still be what authenticates it to sync (a 401 on every deploy before this was fixed)
        javax.net.ssl.SSLContext caOnly = io.edgefleet.transport.pki.TlsContexts.trusting(
                io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(pki.resolve("ca.pem"))));
        d1 = agent("d-1", enrolment, sync, base, url,
                io.edgefleet.agent.AgentTls.none().withCloud(io.edgefleet.transport.http.HttpCredentials.trusting(() -> caOnly)));
    }

    static EdgeAgent agent(String device, String token, AgentConfig.Sync sync, Path base, String url, io.edgefleet.agent.AgentTls tls) throws Exception {
        Path models = Files.createDirectories(dir.resolve("models-" + device));
        Files.copy(base, models.resolve("cls.onnx"));
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent-" + device)).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withIdentity(FLEET, device).withProfile(PROFILE, EngineOptions.defaults())
                .withEnrolment(EnrolmentSettings.of(cp.baseUri(), Optional.of(token)))
                .withMqtt(url).withSync(sync).withTls(tls)
                .withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true)));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {d0, d1, cp, broker}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing the rest matters more
                }
            }
        }
    }

    /** The broker's process id, for the reload command (an operator writes {@code systemctl reload mosquitto}). */
    static long pid(MosquittoBroker b) {
        String folder = b.folder().toString();
        return ProcessHandle.current().children()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(folder)).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no mosquitto child process for " + folder)).pid();
    }

    static boolean onlineWithModels(String device) {
        return cp.fleet().get(FLEET, device).filter(d -> d.status(Instant.now(), cp.fleet().staleAfter()) == DeviceRecord.Status.ONLINE)
                .map(d -> d.enrolledAt().isPresent() && !d.models().isEmpty()).orElse(false);
    }

    static JsonNode rollout(String body) throws Exception {
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", body.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode st = ops.get("/api/v1/rollouts/" + id).json();
            if (!st.get("rollout").get("state").asText().equals("running")) {
                return st;
            }
            assertThat(System.nanoTime()).as("rollout still running after 60 s: %s\nbroker log:\n%s", st, broker.logTail()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** A GET of the sync API presenting {@code tls}'s client certificate. */
    static HttpResponse<String> syncWith(SSLContext tls) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).build();
        return client.send(HttpRequest.newBuilder(cp.baseUri().resolve("/sync/v1/manifests/cls/2")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String version(EdgeAgent a) {
        return a.slots().activeVersions().get("cls");
    }

    /** Whether the control plane's sender check (run on every state, telemetry and ack) takes telemetry signed by {@code signer}. */
    static boolean signedBy(MessageSigner signer, String text) {
        String topic = "ef/v1/" + FLEET + "/d-0/telemetry";
        byte[] payload = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return cp.senderGate().accept(topic, payload, signer.sign(topic, payload).userProperties());
    }

    /** A plain MQTT 5 client presenting {@code tls}'s certificate. */
    static MqttClient connect(String url, SSLContext tls) throws MqttException {
        MqttClient c = new MqttClient(url, "e2e-probe-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setSocketFactory(tls.getSocketFactory());
        o.setConnectionTimeout(5);
        try {
            c.connect(o);
        } catch (MqttException e) {
            c.close();
            throw e;
        }
        return c;
    }

    @Test
    void enrolled_devices_roll_out_over_mutual_tls_and_a_revoked_one_is_cut_off_while_the_other_keeps_working() throws Exception {
        await(Duration.ofSeconds(30), "both devices enrolled, online over mutual TLS and their models reported (signed state); broker log:\n"
                + broker.logTail(), () -> onlineWithModels("d-0") && onlineWithModels("d-1"));
        assertThat(d0.identity().orElseThrow().identity()).isEqualTo(Identity.device(FLEET, "d-0"));

        // a rollout to both: signed commands, signed acks, the version fetched over mTLS with the device certificate
        JsonNode st = rollout("""
                {"model": "cls", "version": "2", "selector": "fleet=e2e", "waves": [{"percent": 100}],
                 "commandTimeout": "30s", "gates": {"maxInstallFailures": 0}}
                """);
        assertThat(st.get("rollout").get("state").asText()).as(st.toString()).isEqualTo("succeeded");
        assertThat(version(d0)).isEqualTo("2");
        assertThat(version(d1)).isEqualTo("2");
        SSLContext revokedTls = d0.identity().orElseThrow().sslContext();
        HttpResponse<String> before = syncWith(revokedTls);
        assertThat(before.statusCode()).as("d-0's certificate is accepted by the sync API before the revocation: %s", before.body()).isEqualTo(200);

        // the control plane's sender check takes a message signed with d-0's key while it is enrolled
        MessageSigner d0Key = MessageSigner.fromFolder(dir.resolve("agent-d-0/identity")).orElseThrow();
        assertThat(signedBy(d0Key, "before")).as("d-0's signed telemetry counts before the revocation").isTrue();

        // the operator revokes d-0
        BigInteger serial = d0.identity().orElseThrow().certificate().getSerialNumber();
        CloudClient.Response revoked = ops.post("/api/v1/fleets/" + FLEET + "/devices/d-0/revoke", Map.of());
        assertThat(revoked.status()).as(revoked.text()).isEqualTo(200);
        // the broker drops its session, and after the CRL reload refuses its certificate at the handshake: it stays out
        await(Duration.ofSeconds(10), "d-0 disconnected by the broker", () -> !d0.mqtt().orElseThrow().isConnected());
        String url = "ssl://127.0.0.1:" + broker.port();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        MqttException handshake = null;
        while (handshake == null && System.nanoTime() < deadline) {
            try {
                MqttClient probe = connect(url, revokedTls); // between the grant's deletion and the CRL reload it gets in, with no rights
                probe.disconnect();
                probe.close();
                Thread.sleep(100);
            } catch (MqttException e) {
                handshake = e;
            }
        }
        assertThat(handshake).as("the revoked certificate is refused at the broker's handshake; log:\n%s", broker.logTail()).isNotNull();
        assertThat(d0.mqtt().orElseThrow().isConnected()).as("the revoked agent stays out").isFalse();
        // HTTPS refuses its certificate on every path (sync here)
        HttpResponse<String> refused = syncWith(revokedTls);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
        assertThat(refused.body()).contains("revoked");
        assertThat(cp.pki().isRevoked(serial)).isTrue();
        // and its messages no longer count, should one still arrive (the broker is the first barrier, this the second)
        assertThat(signedBy(d0Key, "after")).as("d-0's signed telemetry after the revocation").isFalse();

        // d-1 keeps working: online, and a second rollout aimed at it succeeds over the same secured links
        CloudClient.Response v3 = ops.pushModel("cls", "3", List.of(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v3")))),
                List.of(PROFILE), Map.of(), n -> { });
        assertThat(v3.status()).as(v3.text()).isEqualTo(201);
        assertThat(d1.mqtt().orElseThrow().isConnected()).isTrue();
        st = rollout("""
                {"model": "cls", "version": "3", "selector": "fleet=e2e,device=d-1", "waves": [{"percent": 100}],
                 "commandTimeout": "30s", "gates": {"maxInstallFailures": 0}}
                """);
        assertThat(st.get("rollout").get("state").asText()).as(st.toString()).isEqualTo("succeeded");
        assertThat(version(d1)).isEqualTo("3");
        assertThat(version(d0)).as("the revoked device received nothing more").isEqualTo("2");
    }

    @Test
    void a_device_holds_its_broker_rights_the_moment_its_enrolment_answers() throws Exception {
        // another fleet, so the rollouts of the other test never select this agent-less device
        CloudClient.Response token = ops.post("/api/v1/enrolment-tokens", Map.of("fleet", "e2e-late", "device", "d-2", "uses", 1, "ttlSeconds", 600));
        assertThat(token.status()).as(token.text()).isEqualTo(201);
        EnrolmentSettings settings = EnrolmentSettings.of(cp.baseUri(), Optional.of(token.json().path("token").asText()));
        // the broker frozen: a grant cannot complete while it is, so the enrolment must not answer either
        long pid = pid(broker);
        signal("-STOP", pid);
        CompletableFuture<AgentIdentity> enrolled;
        try {
            enrolled = CompletableFuture.supplyAsync(() -> AgentIdentity.open(dir.resolve("identity-d-2"), "e2e-late", "d-2", settings, Clock.systemUTC()));
            await(Duration.ofSeconds(30), "d-2's enrolment recorded", () -> cp.fleet().get("e2e-late", "d-2").flatMap(DeviceRecord::enrolledAt).isPresent());
            assertThatThrownBy(() -> enrolled.get(2, TimeUnit.SECONDS)).as("the enrolment answered before the broker held the device's rights")
                    .isInstanceOf(TimeoutException.class);
        } finally {
            signal("-CONT", pid);
        }
        try (AgentIdentity id = enrolled.get(30, TimeUnit.SECONDS)) {
            // connect at once, as a fast device would: its own command topic is granted (0x87 were it ahead of its rights)
            MqttClient device = connect("ssl://127.0.0.1:" + broker.port(), id.sslContext());
            try {
                int[] codes = device.subscribe(new MqttSubscription[] {new MqttSubscription("ef/v1/e2e-late/d-2/cmd", 1)}).getReasonCodes();
                assertThat(codes).containsExactly(1);
            } finally {
                device.disconnect();
                device.close();
            }
        }
    }

    static void signal(String signal, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start().waitFor()).isZero();
    }
}
