package io.edgefleet.cloud.broker;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** Paho MQTT 5 clients over TLS holding certificates from a test CA, recording what they receive. */
final class CertClients {
    private CertClients() {
    }

    /** A certificate for {@code identity} from {@code ca} and its key, as a TLS client context trusting {@code trusted}. */
    static Issued issue(CertificateAuthority ca, Identity identity, CertificateAuthority trusted) {
        KeyPair keys = KeyPairs.ecP256();
        X509Certificate cert = ca.issue(Csr.create(keys, identity), identity, Duration.ofHours(1));
        return new Issued(cert, TlsContexts.of(keys.getPrivate(), List.of(cert), List.of(trusted.certificate())));
    }

    record Issued(X509Certificate certificate, SSLContext tls) {
    }

    /** One connected client; {@link #received} collects {@code topic payload} strings. */
    static final class Client implements MqttCallback, AutoCloseable {
        final MqttClient paho;
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        final BlockingQueue<Integer> disconnects = new LinkedBlockingQueue<>();

        Client(String url, SSLContext tls) throws MqttException {
            paho = new MqttClient(url, "t-" + UUID.randomUUID(), new MemoryPersistence());
            paho.setTimeToWait(10_000);
            paho.setCallback(this);
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setSocketFactory(tls.getSocketFactory());
            o.setConnectionTimeout(10);
            o.setAutomaticReconnect(false);
            paho.connect(o);
        }

        /** The SUBACK reason code (0 to 2 granted, 0x87 not authorized). */
        int subscribe(String filter) throws MqttException {
            try {
                return paho.subscribe(new MqttSubscription[] {new MqttSubscription(filter, 1)}).getReasonCodes()[0];
            } catch (MqttException e) {
                if (!paho.isConnected()) {
                    throw e;
                }
                return e.getReasonCode(); // Paho's blocking client throws on a failure code in the SUBACK
            }
        }

        /** The PUBACK reason code of a QoS 1 publish (0 or 0x10 accepted, 0x87 not authorized). */
        int publish(String topic, String payload, boolean retained) throws MqttException {
            MqttMessage m = new MqttMessage(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, retained, new MqttProperties());
            try {
                var token = paho.getTopic(topic).publish(m);
                token.waitForCompletion(10_000);
                return token.getReasonCodes()[0];
            } catch (MqttException e) {
                if (!paho.isConnected()) {
                    throw e;
                }
                return e.getReasonCode(); // a failure code in the PUBACK
            }
        }

        /** The next message within {@code seconds}, or null. */
        String next(int seconds) throws InterruptedException {
            return received.poll(seconds, TimeUnit.SECONDS);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            received.add(topic + " " + new String(message.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void disconnected(MqttDisconnectResponse r) {
            disconnects.add(r.getReturnCode());
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        @Override
        public void close() {
            try {
                if (paho.isConnected()) {
                    paho.disconnect(2_000);
                }
                paho.close(true);
            } catch (MqttException e) {
                // the broker may have closed it already
            }
        }
    }
}
