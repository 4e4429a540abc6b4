package io.edgefleet.sim;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.PublishAuthorizer;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.SubscriptionAuthorizer;
import com.hivemq.extension.sdk.api.auth.parameter.PublishAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.PublishAuthorizerOutput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerOutput;
import com.hivemq.extension.sdk.api.client.parameter.ClientTlsInformation;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionInformation;
import com.hivemq.extension.sdk.api.events.EventRegistry;
import com.hivemq.extension.sdk.api.events.client.ClientLifecycleEventListener;
import com.hivemq.extension.sdk.api.events.client.parameters.AuthenticationSuccessfulInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionStartInput;
import com.hivemq.extension.sdk.api.events.client.parameters.DisconnectEventInput;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.packets.disconnect.DisconnectReasonCode;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import com.hivemq.extension.sdk.api.packets.subscribe.SubackReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.session.ClientService;
import io.edgefleet.cloud.broker.BrokerRevocation;
import io.edgefleet.cloud.broker.RevocationCheck;
import io.edgefleet.protocols.topics.TopicRights;
import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Identity;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The embedded broker's security, as a HiveMQ embedded extension: the client's identity is its
 * verified TLS client certificate's CN (the TLS listener requires a certificate from the EdgeFleet
 * CA), revoked certificates are refused with CONNACK 0x87, and every PUBLISH (wills included) and
 * SUBSCRIBE is decided by {@link TopicRights} (refused with PUBACK / SUBACK 0x87). The MQTT user name
 * and password a client sends are ignored.
 *
 * <p>{@link #revoke} disconnects every session of the identity (DISCONNECT 0x87); the
 * {@link RevocationCheck} then keeps it out. Callbacks run on HiveMQ's threads; {@code revoke} on any.
 */
public final class BrokerSecurity implements ExtensionMain, BrokerRevocation {
    private static final System.Logger LOG = System.getLogger(BrokerSecurity.class.getName());
    private static final String IDENTITY = "edgefleet.identity";

    private final RevocationCheck revocations;
    /** Connected client ids per identity, for {@link #revoke}. */
    private final Map<String, Set<String>> sessions = new ConcurrentHashMap<>();
    private volatile ClientService clients;

    public BrokerSecurity(RevocationCheck revocations) {
        this.revocations = revocations;
    }

    @Override
    public void extensionStart(ExtensionStartInput in, ExtensionStartOutput out) {
        clients = Services.clientService();
        Services.securityRegistry().setAuthenticatorProvider(i -> (SimpleAuthenticator) this::authenticate);
        Authorizer authorizer = new Authorizer();
        Services.securityRegistry().setAuthorizerProvider(i -> authorizer);
        EventRegistry events = Services.eventRegistry();
        events.setClientLifecycleEventListener(i -> new Sessions());
    }

    @Override
    public void extensionStop(ExtensionStopInput in, ExtensionStopOutput out) {
        sessions.clear();
    }

    private void authenticate(SimpleAuthInput in, SimpleAuthOutput out) {
        Optional<X509Certificate> cert = in.getConnectionInformation().getClientTlsInformation()
                .flatMap(ClientTlsInformation::getClientCertificate);
        if (cert.isEmpty()) {
            out.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "a client certificate is required");
            return;
        }
        Identity identity;
        try {
            identity = Certificates.identity(cert.get());
        } catch (IllegalArgumentException e) {
            out.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "the certificate names no EdgeFleet identity");
            return;
        }
        boolean revoked;
        try {
            revoked = revocations.isRevoked(cert.get());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "revocation check failed for {0}; refusing: {1}", identity, e.getMessage());
            revoked = true;
        }
        if (revoked) {
            out.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "certificate revoked");
            return;
        }
        in.getConnectionInformation().getConnectionAttributeStore().putAsString(IDENTITY, identity.commonName());
        out.authenticateSuccessfully();
    }

    @Override
    public void revoke(Identity identity) {
        Set<String> ids = sessions.getOrDefault(identity.commonName(), Set.of());
        ClientService c = clients;
        if (c == null) {
            return;
        }
        for (String clientId : Set.copyOf(ids)) {
            try {
                c.disconnectClient(clientId, true, DisconnectReasonCode.NOT_AUTHORIZED, "certificate revoked").get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new io.edgefleet.cloud.broker.BrokerAdminException("cannot disconnect " + identity + " (" + clientId + "): " + e, e);
            }
        }
    }

    private static Optional<String> identity(ConnectionInformation c) {
        return c.getConnectionAttributeStore().getAsString(IDENTITY);
    }

    private final class Authorizer implements PublishAuthorizer, SubscriptionAuthorizer {
        @Override
        public void authorizePublish(PublishAuthorizerInput in, PublishAuthorizerOutput out) {
            Optional<String> who = identity(in.getConnectionInformation());
            if (who.isPresent() && TopicRights.allows(who.get(), TopicRights.Action.PUBLISH, in.getPublishPacket().getTopic())) {
                out.authorizeSuccessfully();
            } else {
                out.failAuthorization(AckReasonCode.NOT_AUTHORIZED, "not authorized");
            }
        }

        @Override
        public void authorizeSubscribe(SubscriptionAuthorizerInput in, SubscriptionAuthorizerOutput out) {
            Optional<String> who = identity(in.getConnectionInformation());
            if (who.isPresent() && TopicRights.allows(who.get(), TopicRights.Action.SUBSCRIBE, in.getSubscription().getTopicFilter())) {
                out.authorizeSuccessfully();
            } else {
                out.failAuthorization(SubackReasonCode.NOT_AUTHORIZED, "not authorized");
            }
        }
    }

    /** Keeps {@link #sessions} current. */
    private final class Sessions implements ClientLifecycleEventListener {
        @Override
        public void onMqttConnectionStart(ConnectionStartInput in) {
        }

        @Override
        public void onAuthenticationSuccessful(AuthenticationSuccessfulInput in) {
            identity(in.getConnectionInformation()).ifPresent(
                    who -> sessions.computeIfAbsent(who, k -> ConcurrentHashMap.newKeySet()).add(in.getClientInformation().getClientId()));
        }

        @Override
        public void onDisconnect(DisconnectEventInput in) {
            identity(in.getConnectionInformation()).ifPresent(who -> sessions.computeIfPresent(who, (k, set) -> {
                set.remove(in.getClientInformation().getClientId());
                return set.isEmpty() ? null : set;
            }));
        }
    }
}
