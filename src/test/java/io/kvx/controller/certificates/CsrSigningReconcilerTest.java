package io.kvx.controller.certificates;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class CsrSigningReconcilerTest {

  private static final long NOW = Instant.parse("2026-11-24T10:00:00Z").toEpochMilli();

  private static String request(String subject) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    KeyPair kp = g.generateKeyPair();
    var csr = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), kp.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(csr);
    }
    return Base64.getEncoder().encodeToString(w.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject csr(String subject, String signer, String created, JsonArray usages, String... conditions)
      throws Exception {
    JsonArray cs = new JsonArray();
    for (String c : conditions) {
      cs.add(new JsonObject().put("type", c).put("status", "True").put("lastUpdateTime", "2026-11-24T09:30:00Z"));
    }
    return new JsonObject().put("metadata", new JsonObject().put("name", "r").put("creationTimestamp", created))
        .put("spec", new JsonObject().put("request", request(subject)).put("signerName", signer).put("usages", usages))
        .put("status", new JsonObject().put("conditions", cs));
  }

  @Test
  void anApprovedClientRequestIsSignedForAtMostAYear() throws Exception {
    JsonObject c = csr("CN=jane", "kubernetes.io/kube-apiserver-client", "2026-11-24T09:00:00Z",
        new JsonArray().add("client auth").add("digital signature"), "Approved");
    var a = assertInstanceOf(CsrSigningReconciler.Sign.class, CsrSigningReconciler.decide(c, true, NOW));
    assertEquals(Duration.ofDays(365), a.validity());
    c.getJsonObject("spec").put("expirationSeconds", 3600);
    assertEquals(Duration.ofHours(1), ((CsrSigningReconciler.Sign) CsrSigningReconciler.decide(c, true, NOW)).validity());
  }

  @Test
  void signersRefuseUsagesAndSubjectsTheyDoNotIssue() throws Exception {
    var server = CsrSigningReconciler.decide(csr("CN=jane", "kubernetes.io/kube-apiserver-client",
        "2026-11-24T09:00:00Z", new JsonArray().add("server auth"), "Approved"), true, NOW);
    assertEquals("invalid usage for kubernetes.io/kube-apiserver-client: server auth",
        assertInstanceOf(CsrSigningReconciler.Fail.class, server).message());
    var kubelet = CsrSigningReconciler.decide(csr("CN=jane,O=system:nodes", "kubernetes.io/kube-apiserver-client-kubelet",
        "2026-11-24T09:00:00Z", new JsonArray().add("client auth"), "Approved"), true, NOW);
    assertEquals("subject common name does not begin with system:node:",
        assertInstanceOf(CsrSigningReconciler.Fail.class, kubelet).message());
    assertInstanceOf(CsrSigningReconciler.Sign.class, CsrSigningReconciler.decide(csr("CN=system:node:n1,O=system:nodes",
        "kubernetes.io/kube-apiserver-client-kubelet", "2026-11-24T09:00:00Z", new JsonArray().add("client auth"),
        "Approved"), true, NOW));
  }

  @Test
  void requestsAreCleanedUpAnHourAfterADecisionAndADayWhenPending() throws Exception {
    // other signers are left to their own controllers, and cleaned up like the rest
    var custom = CsrSigningReconciler.decide(csr("CN=x", "example.com/custom", "2026-11-24T09:00:00Z",
        new JsonArray().add("client auth"), "Approved"), true, NOW);
    assertEquals(Duration.ofMinutes(30).toMillis(), assertInstanceOf(CsrSigningReconciler.Wait.class, custom).ms());
    assertInstanceOf(CsrSigningReconciler.Delete.class, CsrSigningReconciler.decide(csr("CN=x",
        "kubernetes.io/kube-apiserver-client", "2026-11-24T08:00:00Z", new JsonArray().add("client auth"), "Denied"),
        true, NOW + Duration.ofMinutes(31).toMillis()));
    var pending = CsrSigningReconciler.decide(csr("CN=x", "kubernetes.io/kube-apiserver-client",
        "2026-11-24T09:00:00Z", new JsonArray().add("client auth")), true, NOW);
    assertEquals(Duration.ofHours(23).toMillis(), assertInstanceOf(CsrSigningReconciler.Wait.class, pending).ms());
    // without the CA key an approved request is not signed here
    assertInstanceOf(CsrSigningReconciler.Wait.class, CsrSigningReconciler.decide(csr("CN=x",
        "kubernetes.io/kube-apiserver-client", "2026-11-24T09:00:00Z", new JsonArray().add("client auth"), "Approved"),
        false, NOW));
  }
}
