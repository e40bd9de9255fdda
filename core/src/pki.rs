//! The enterprise PKI: certificates, PKCS#10 requests, enrollment-agent CMS.
