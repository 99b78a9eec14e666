// What the router's configuration accepts (records/config.py's checks), for the forms that
// edit it: the administration page and the Wi-Fi setup page refuse the same things.
export const IP = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
export const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

// a WPA2 passphrase (8..63 printable ASCII characters, or 64 hex digits), or empty for an
// open network
export function okWpa(s) {
  return s === "" || /^[ -~]{8,63}$/.test(s) || /^[0-9a-fA-F]{64}$/.test(s);
}

// an IPv4 address or a host name (config.py's "addr"): the MQTT broker's
export const NAME = /^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/;
export function okAddr(s) {
  return IP.test(s) || (NAME.test(s) && !/^[\d.]+$/.test(s));
}

// an MQTT topic of levels of letters, digits, '-', '_' and '.' (config.py's "topic")
export function okTopic(s) {
  return /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(s);
}

// a local time of day "HH:MM" (config.py's "hhmm")
export const okHhmm = (s) => /^([01]\d|2[0-3]):[0-5]\d$/.test(s);
