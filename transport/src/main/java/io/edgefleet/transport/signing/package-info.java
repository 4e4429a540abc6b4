/**
 * Proof of sender on MQTT, independent of the broker: devices sign their {@code state},
 * {@code telemetry} and {@code cmd/ack} with their enrolled key ({@link io.edgefleet.transport.signing.MessageSigner}),
 * the control plane verifies them against the identity the topic names
 * ({@link io.edgefleet.transport.signing.SenderVerifier} over {@link io.edgefleet.transport.signing.DeviceCertificates});
 * the control plane signs commands and agents verify them against the fleet CA
 * ({@link io.edgefleet.transport.signing.CommandVerifier}). ECDSA P-256 (SHA-256) from the JDK; the
 * signature travels in MQTT 5 user properties so payloads stay unchanged.
 */
package io.edgefleet.transport.signing;
