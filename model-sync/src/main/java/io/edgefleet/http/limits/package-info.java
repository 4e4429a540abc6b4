/**
 * What one Helidon HTTP listener lets a client hold (idle, header and body read deadlines,
 * connection and request caps) and which read failures are the client's. Shared by the agent
 * and the control plane; it lives in model-sync, the lowest module with Helidon's web server.
 */
package io.edgefleet.http.limits;
