"""Simplified Chinese for the fixed terms of a case summary.

Section headings, record categories, medical areas, goals and statuses are translated
once here, so translators only translate the free text.
"""

from __future__ import annotations

from cases.domain.enquiry import Goal, MedicalArea
from cases.domain.records import RecordCategory
from cases.domain.summary import SectionKey
from cases.domain.workflow import Status

# Keyed by the members, which are their string values: look up with either.
SECTIONS: dict[str, str] = {
    SectionKey.BACKGROUND: "背景",
    SectionKey.TIMELINE: "时间线",
    SectionKey.CURRENT_CONCERN: "当前关注的问题",
    SectionKey.GOAL: "患者的目标",
    SectionKey.QUESTIONS: "需要审阅专家回答的问题",
    SectionKey.RECORDS_PROVIDED: "已提供的病历资料",
    SectionKey.RECORDS_MISSING: "缺少的病历资料",
}

RECORD_CATEGORIES: dict[str, str] = {
    RecordCategory.DIAGNOSIS_LETTER: "诊断书或门诊信函",
    RecordCategory.REFERRAL: "转诊信",
    RecordCategory.DISCHARGE: "出院小结",
    RecordCategory.LAB: "血液检查或化验报告",
    RecordCategory.IMAGING_REPORT: "影像学报告",
    RecordCategory.IMAGING_STUDY: "影像学检查（DICOM）",
    RecordCategory.PATHOLOGY: "病理或活检报告",
    RecordCategory.GENETIC: "基因或分子检测",
    RecordCategory.MEDICATIONS: "用药及过敏史",
    RecordCategory.TREATMENT_HISTORY: "治疗史",
    RecordCategory.IVF_CYCLE: "试管婴儿周期记录",
    RecordCategory.REVIEWER_OPINION: "审阅专家意见",
    RecordCategory.OTHER: "其他",
}

MEDICAL_AREAS: dict[str, str] = {
    MedicalArea.CANCER: "癌症与肿瘤",
    MedicalArea.RARE_DISEASE: "罕见病与疑难病诊断",
    MedicalArea.FERTILITY: "生育与生殖医学",
    MedicalArea.EYE_CARE: "眼科",
    MedicalArea.REHABILITATION: "康复与慢性病",
    MedicalArea.OTHER: "其他",
}

GOALS: dict[str, str] = {
    Goal.INFORMATION: "了解信息：了解可选方案",
    Goal.TREATMENT: "探索治疗：是否可能在中国接受治疗",
    Goal.TRAVEL: "出行规划：赴华就医需要做哪些准备",
}

SEXES: dict[str, str] = {"female": "女", "male": "男", "other": "其他或不愿说明"}

STATUSES: dict[str, str] = {
    Status.SUBMITTED: "已提交",
    Status.TRIAGE: "分诊中",
    Status.AWAITING_RECORDS: "等待补充病历",
    Status.DRAFTING: "撰写摘要中",
    Status.REVIEW: "审核中",
    Status.READY: "已就绪",
    Status.SHARED: "已分享",
    Status.OPINION_RECEIVED: "已收到意见",
    Status.CLOSED: "已结案",
    Status.WITHDRAWN: "已撤回",
    Status.DECLINED: "未受理",
}

# Clinical terms every summary uses; the start of the editable term list (MedicalTerm).
CLINICAL_TERMS: dict[str, str] = {
    "biopsy": "活检",
    "metastatic": "转移性",
    "HER2-positive": "HER2阳性",
    "breast cancer": "乳腺癌",
    "chemotherapy": "化疗",
    "radiotherapy": "放疗",
    "immunotherapy": "免疫治疗",
    "targeted therapy": "靶向治疗",
    "trastuzumab": "曲妥珠单抗",
    "pertuzumab": "帕妥珠单抗",
    "stage": "分期",
    "lymph node": "淋巴结",
    "MRI": "磁共振成像（MRI）",
    "CT scan": "CT扫描",
    "PET-CT": "PET-CT",
    "IVF cycle": "试管婴儿周期",
    "embryo": "胚胎",
    "AMH": "抗缪勒管激素（AMH）",
    "genetic testing": "基因检测",
    "whole genome sequencing": "全基因组测序",
    "discharge summary": "出院小结",
}

ALL: dict[str, dict[str, str]] = {
    "Section headings": {SectionKey(k).label: v for k, v in SECTIONS.items()},
    "Record categories": {RecordCategory(k).label: v for k, v in RECORD_CATEGORIES.items()},
    "Medical areas": {MedicalArea(k).label: v for k, v in MEDICAL_AREAS.items()},
    "Goals": {Goal(k).label: v for k, v in GOALS.items()},
    "Statuses": {Status(k).label: v for k, v in STATUSES.items()},
}
