package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * certificates.k8s.io/v1 CertificateSigningRequests: reading the PEM request, the API's validation and
 * the state a request is in. Pure (Bouncy Castle parses; nothing here does I/O).
 */
public final class Certificates {

  public static final String CLIENT = "kubernetes.io/kube-apiserver-client";
  public static final String KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet";
  public static final String KUBELET_SERVING = "kubernetes.io/kubelet-serving";
  /** The key usages the API accepts (certificates.k8s.io KeyUsage). */
  public static final List<String> USAGES = List.of("signing", "digital signature", "content commitment",
      "key encipherment", "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
      "decipher only", "any", "server auth", "client auth", "code signing", "email protection", "s/mime",
      "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc",
      "netscape sgc");
  private static final Set<String> CONDITIONS = Set.of("Approved", "Denied", "Failed");

  private Certificates() {
  }

  /** spec.request (base64 of a PEM "CERTIFICATE REQUEST" in JSON) as a request whose signature holds. */
  public static PKCS10CertificationRequest request(String base64) {
    String pem;
    try {
      pem = new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("must be base64-encoded PEM");
    }
    Object o;
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      o = p.readObject();
    } catch (Exception e) {
      throw new IllegalArgumentException("PEM block type must be CERTIFICATE REQUEST");
    }
    if (!(o instanceof PKCS10CertificationRequest req)) {
      throw new IllegalArgumentException("PEM block type must be CERTIFICATE REQUEST");
    }
    try {
      JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(req);
      if (!req.isSignatureValid(new JcaContentVerifierProviderBuilder().build(jca.getPublicKey()))) {
        throw new IllegalArgumentException("x509: invalid signature on the certificate request");
      }
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("x509: cannot verify the certificate request: " + e.getMessage());
    }
    return req;
  }

  /** The API's rules for a CertificateSigningRequest (create and update, main resource and subresources). */
  static void validate(JsonObject csr, List<ApiError.Cause> causes) {
    JsonObject spec = csr.getJsonObject("spec", new JsonObject());
    String request = spec.getString("request");
    if (request == null || request.isEmpty()) {
      causes.add(new ApiError.Cause("spec.request", "FieldValueRequired", "Required value"));
    } else {
      try {
        request(request);
      } catch (IllegalArgumentException e) {
        causes.add(new ApiError.Cause("spec.request", "FieldValueInvalid", "Invalid value: \"<request>\": "
            + e.getMessage()));
      }
    }
    String signer = spec.getString("signerName");
    if (signer == null || signer.isEmpty()) {
      causes.add(new ApiError.Cause("spec.signerName", "FieldValueRequired", "Required value"));
    } else if (!signer.contains("/")) {
      causes.add(new ApiError.Cause("spec.signerName", "FieldValueInvalid", "Invalid value: \"" + signer
          + "\": must be a fully qualified domain and path of the form 'example.com/signer-name'"));
    }
    JsonArray usages = spec.getJsonArray("usages");
    if (usages == null || usages.isEmpty()) {
      causes.add(new ApiError.Cause("spec.usages", "FieldValueRequired", "Required value"));
    } else {
      for (int i = 0; i < usages.size(); i++) {
        Object u = usages.getValue(i);
        if (!USAGES.contains(String.valueOf(u))) {
          causes.add(new ApiError.Cause("spec.usages[" + i + "]", "FieldValueNotSupported", "Unsupported value: \""
              + u + "\": supported values: " + String.join(", ", USAGES.stream().map(x -> "\"" + x + "\"").toList())));
        }
      }
    }
    Object seconds = spec.getValue("expirationSeconds");
    if (seconds instanceof Number n && n.longValue() < 600) {
      causes.add(new ApiError.Cause("spec.expirationSeconds", "FieldValueInvalid", "Invalid value: " + n
          + ": may not specify a duration less than 600 seconds (10 minutes)"));
    }
    JsonArray conditions = csr.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray());
    boolean approved = false;
    boolean denied = false;
    for (int i = 0; i < conditions.size(); i++) {
      JsonObject c = conditions.getJsonObject(i);
      String type = c.getString("type", "");
      String path = "status.conditions[" + i + "]";
      if (type.isEmpty()) causes.add(new ApiError.Cause(path + ".type", "FieldValueRequired", "Required value"));
      String status = c.getString("status", "");
      if (CONDITIONS.contains(type) && !status.equals("True")) {
        causes.add(new ApiError.Cause(path + ".status", "FieldValueNotSupported", "Unsupported value: \"" + status
            + "\": supported values: \"True\""));
      }
      approved |= type.equals("Approved");
      denied |= type.equals("Denied");
      if (approved && denied) {
        causes.add(new ApiError.Cause(path + ".type", "FieldValueInvalid", "Invalid value: \"" + type
            + "\": Approved and Denied conditions are mutually exclusive"));
      }
    }
  }

  /** A subject's common name, as Kubernetes takes a user name from it ("" when there is none). */
  public static String commonName(org.bouncycastle.asn1.x500.X500Name subject) {
    List<String> cn = values(subject, org.bouncycastle.asn1.x500.style.BCStyle.CN);
    return cn.isEmpty() ? "" : cn.get(0);
  }

  /** A subject's organizations, as Kubernetes takes a user's groups from them. */
  public static List<String> organizations(org.bouncycastle.asn1.x500.X500Name subject) {
    return values(subject, org.bouncycastle.asn1.x500.style.BCStyle.O);
  }

  private static List<String> values(org.bouncycastle.asn1.x500.X500Name subject,
                                     org.bouncycastle.asn1.ASN1ObjectIdentifier type) {
    List<String> out = new ArrayList<>();
    for (var rdn : subject.getRDNs(type)) {
      out.add(org.bouncycastle.asn1.x500.style.IETFUtils.valueToString(rdn.getFirst().getValue()));
    }
    return out;
  }

  /** Whether the request has a condition of this type with status True. */
  public static boolean has(JsonObject csr, String type) {
    return condition(csr, type) != null;
  }

  public static JsonObject condition(JsonObject csr, String type) {
    for (Object o : csr.getJsonObject("status", new JsonObject()).getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && type.equals(c.getString("type")) && "True".equals(c.getString("status"))) {
        return c;
      }
    }
    return null;
  }

  /** kubectl's CONDITION column: Approved, Denied, Failed joined by commas, Issued when signed; else Pending. */
  public static String conditionColumn(JsonObject csr) {
    List<String> out = new ArrayList<>();
    for (String t : List.of("Approved", "Denied", "Failed")) if (has(csr, t)) out.add(t);
    String cert = csr.getJsonObject("status", new JsonObject()).getString("certificate");
    if (cert != null && !cert.isEmpty()) out.add("Issued");
    return out.isEmpty() ? "Pending" : String.join(",", out);
  }
}
