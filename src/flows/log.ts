// Where flows raise operator alerts (the SMS budget spent, a surge of failed
// logins) and report work that failed after an answer: the app's logger in
// the server, a capturing log in tests.
export interface AlertLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
