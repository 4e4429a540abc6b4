package io.edgefleet.cloud.broker;

import io.edgefleet.transport.pki.Identity;

/**
 * Takes a revoked identity's rights away at the MQTT broker: the broker disconnects every session
 * of that identity and refuses it from then on. Implementations: {@link DynamicSecurity} (Mosquitto's
 * dynamic-security plugin, over MQTT) and the embedded broker's security extension.
 *
 * <p>Called by the control plane when a device is revoked (the {@code device.revoked} event), on
 * any thread; blocks until the broker confirmed, at most a few seconds.
 */
@FunctionalInterface
public interface BrokerRevocation {
    /**
     * Revokes {@code identity} at the broker. Idempotent: revoking an identity the broker does not
     * know succeeds.
     *
     * @throws BrokerAdminException when the broker cannot be reached or refuses the change
     *     (retriable: the control plane should try again)
     */
    void revoke(Identity identity);
}
