// French names of the API's codes. An unknown code shows as itself, as text.

export const DOCUMENT_TYPES = {
  prescription: "Ordonnance",
  hospital_report: "Compte rendu d’hospitalisation",
  consultation_report: "Compte rendu de consultation",
  lab_result: "Résultat de biologie",
  imaging_report: "Compte rendu d’imagerie",
  vaccination_record: "Vaccination",
  care_summary: "Synthèse médicale",
  other: "Autre document",
  advance_directives: "Directives anticipées",
};

export const ACTIONS = {
  "document.created": "Document ajouté",
  "document.read": "Document consulté",
  "document.listed": "Liste des documents consultée",
  "document.masked": "Document masqué",
  "document.unmasked": "Document démasqué",
  "document.released": "Document rendu visible",
  "document.deleted": "Document supprimé",
  "document.imported": "Document repris de l’ancien DMP",
  "access.granted": "Accès autorisé",
  "access.revoked": "Accès retiré",
  "access.blocked": "Professionnel bloqué",
  "access.unblocked": "Professionnel débloqué",
  "access.treating_doctor_set": "Médecin traitant déclaré",
  "access.treating_doctor_removed": "Médecin traitant retiré",
  "access.emergency_setting": "Réglage de l’accès en urgence",
  "access.searched": "Espace recherché par un professionnel",
  emergency_access: "Accès en urgence",
  "emergency_access.notified": "Accès en urgence signalé",
  "access.regulation_setting": "Réglage de l’accès du SAMU (centre 15)",
  regulation_access: "Accès d’un médecin régulateur du SAMU",
  "regulation_access.notified": "Accès du SAMU signalé",
  "emergency_summary.read": "Synthèse d’urgence consultée",
  "conversation.opened": "Conversation ouverte",
  "conversation.read": "Conversation lue",
  "message.sent": "Message envoyé",
  "message.attachment_read": "Pièce jointe ouverte",
  "agenda.created": "Événement ajouté à l’agenda",
  "agenda.updated": "Événement de l’agenda modifié",
  "agenda.deleted": "Événement supprimé de l’agenda",
  "agenda.listed": "Agenda consulté",
  "agenda.exported": "Agenda exporté (iCalendar)",
  "agenda.reminded": "Rappel d’agenda envoyé",
  "profile.created": "Profil médical complété",
  "profile.read": "Profil médical consulté",
  "profile.deleted": "Élément du profil supprimé",
  "measurement.created": "Mesure ajoutée",
  "measurement.read": "Mesures consultées",
  "measurement.deleted": "Mesure supprimée",
  "connection.created": "Application connectée",
  "connection.revoked": "Application révoquée",
  "app.read": "Lecture par une application",
  "export.created": "Dossier exporté",
  "enrolment.invited": "Invitation envoyée",
  "enrolment.activated": "Espace activé",
  "enrolment.auto_created": "Espace créé automatiquement",
  "enrolment.opposed": "Opposition à la création",
  "account.closed": "Espace fermé",
  "caregiver.invited": "Aidant invité",
  "caregiver.accepted": "Rôle d’aidant accepté",
  "caregiver.ended": "Rôle d’aidant terminé",
};

export const ROLES = {
  patient: "Titulaire",
  professional: "Professionnel de santé",
  app: "Application",
  representative: "Représentant légal",
  caregiver: "Aidant",
  enrolment_agent: "Assurance maladie",
  migration: "Reprise de l’ancien DMP",
  system: "Mon espace santé",
};

export const AGENDA_KINDS = {
  appointment: "Rendez-vous",
  hospitalisation: "Hospitalisation",
  vaccination_reminder: "Rappel de vaccin",
  exam_reminder: "Rappel d’examen",
};

export const SCOPES = {
  "measurements:read": "Lire vos mesures",
  "measurements:write": "Ajouter des mesures",
  "documents:read": "Lire vos documents",
  "documents:write": "Ajouter des documents",
  "agenda:read": "Lire votre agenda",
  "agenda:write": "Ajouter des événements à votre agenda",
  "profile:read": "Lire votre profil médical",
};

export const CATEGORIES = {
  diabetes: "Diabète",
  prevention: "Prévention",
  physical_activity: "Activité physique",
  nutrition: "Nutrition",
  mental_health: "Santé mentale",
  pregnancy: "Grossesse",
  cardiology: "Cardiologie",
  telemedicine: "Téléconsultation",
};

export const MEASUREMENTS = {
  weight: { label: "Poids", units: ["kg"] },
  height: { label: "Taille", units: ["cm"] },
  heart_rate: { label: "Fréquence cardiaque", units: ["/min"] },
  temperature: { label: "Température", units: ["Cel"] },
  glucose: { label: "Glycémie", units: ["g/L", "mmol/L"] },
  blood_pressure: { label: "Tension artérielle", units: ["mm[Hg]"] },
};

export const UNITS = { kg: "kg", cm: "cm", "/min": "battements/min", Cel: "°C", "g/L": "g/L", "mmol/L": "mmol/L", "mm[Hg]": "mmHg" };

export const SEVERITIES = { mild: "Légère", moderate: "Modérée", severe: "Sévère" };
export const CONDITION_STATUSES = { active: "En cours", resolved: "Guéri" };
export const STATUSES = { invited: "Invitation en attente", active: "Actif", auto_created: "Créé automatiquement", opposed: "Opposé", closed: "Fermé" };
export const RELATIONSHIPS = { legal_representative: "Représentant légal", guardian: "Tuteur", caregiver: "Aidant" };
export const CAREGIVER_STATUSES = { invited: "invitation envoyée", active: "actif" };

export function label(table, code) {
  return table[code] || code;
}

export function options(table) {
  return Object.entries(table).map(([code, name]) => [code, typeof name === "string" ? name : name.label]);
}

// Who did something: "Vous" for the person signed in, else the role and identifier.
export function actor(ref, me) {
  if (!ref) return "";
  if (me && ref.id === me) return "Vous";
  if (ref.role === "professional") return `Professionnel de santé (RPPS ${ref.id})`;
  if (["patient", "representative", "caregiver", "app"].includes(ref.role)) return `${label(ROLES, ref.role)} (${ref.id})`;
  return label(ROLES, ref.role); // an agent or the platform: its technical id tells a person nothing
}

export function measurementValue(entry) {
  const unit = label(UNITS, entry.unit);
  const number = (n) => Number(n).toLocaleString("fr-FR", { maximumFractionDigits: 2 });
  if (entry.value && typeof entry.value === "object") return `${number(entry.value.systolic)}/${number(entry.value.diastolic)} ${unit}`;
  return `${number(entry.value)} ${unit}`;
}
