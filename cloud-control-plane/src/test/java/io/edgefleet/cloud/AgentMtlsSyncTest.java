package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.AgentTls;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.transport.http.HttpCredentials;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A real agent deploys a model version from the control plane over HTTPS, authenticated only by its device certificate (mTLS). */
class AgentMtlsSyncTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    @Test
    void an_agent_syncs_a_model_over_mtls_with_its_device_certificate_and_no_token() throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.tlsConfig(dir.resolve("cloud")))) {
            CloudClient ops = new CloudClient(cp.baseUri(), Optional.of(OPERATOR), Optional.of(CloudClient.trusting(dir.resolve("cloud/pki/ca.pem"))));
            Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
            assertThat(ops.pushModel("cls", "2", List.of(v2), List.of("raspberry-pi-4-4gb"), Map.of(), n -> { }).status()).isEqualTo(201);
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            // the device's key is made here (on the device); the CA certifies it for plant-7/cam-1
            KeyPair kp = KeyPairs.ecP256();
            Identity id = Identity.device("plant-7", "cam-1");
            X509Certificate cert = cp.certificateAuthority().issue(Csr.create(kp, id), id, Duration.ofHours(1));
            SSLContext device = TlsContexts.of(kp.getPrivate(), List.of(cert), List.of(cp.certificateAuthority().certificate()));
            AtomicInteger asked = new AtomicInteger();
            Path models = Files.createDirectories(dir.resolve("agent-models"));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))), models.resolve("cls.onnx"));
            try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("plant-7", "cam-1").withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                    .withMqtt(MQTT.broker().url())
                    .withSync(new AgentConfig.Sync(cp.baseUri(), Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText()))))
                    .withTls(AgentTls.none().withCloud(HttpCredentials.tls(() -> {
                        asked.incrementAndGet();
                        return device;
                    }))))) {
                MqttClient cmd = new MqttClient(MQTT.broker().url(), "mtls-test-cmd", new MemoryPersistence());
                List<CommandAck> acks = new CopyOnWriteArrayList<>();
                List<String> states = new CopyOnWriteArrayList<>();
                cmd.setCallback(MqttCallbacks.onMessage((t, m) -> {
                    if (t.endsWith("/state")) {
                        states.add(new String(m.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
                    } else {
                        acks.add(MessageCodec.json().decode(m.getPayload(), CommandAck.class));
                    }
                }));
                cmd.connect();
                cmd.subscribe(Topic.commandAck("plant-7", "cam-1").value(), 1);
                cmd.subscribe(Topic.state("plant-7", "cam-1").value(), 1);
                // the agent publishes its online state once its subscriptions are in place: a command sent earlier could be lost
                await(Duration.ofSeconds(30), "the agent online and subscribed", () -> states.stream().anyMatch(x -> x.contains("\"online\":true")));
                MqttMessage m = new MqttMessage(MessageCodec.json().encode(Command.deploy("cmd-mtls-1", null, "cls", "2", true, Instant.now())));
                m.setQos(1);
                cmd.publish(Topic.command("plant-7", "cam-1").value(), m);
                await(Duration.ofSeconds(30), "activated or failed ack", () -> acks.stream().anyMatch(a -> a.phase().wire().equals("activated")
                        || a.phase().wire().equals("failed")));
                assertThat(acks.get(acks.size() - 1).phase().wire()).as(acks.toString()).isEqualTo("activated");
                assertThat(asked.get()).as("the sync client took its TLS context from the supplier").isPositive();
                cmd.disconnect();
                cmd.close();
            }
        }
    }
}
