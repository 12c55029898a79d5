"""DICOM for partners: a de-identified copy (PS3.15 basic profile) and a boxed picture.

The basic application level confidentiality profile: attributes that can identify the
patient, the staff or the place are removed or emptied, UIDs are replaced (consistently,
so the series still hangs together), private tags and overlays go, and the file says it
was de-identified. Text burned into the pixels is found by OCR like a photo's and boxed
in both the picture and the pixel data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

# PS3.15 Table E.1-1, the attributes of the basic profile that occur in practice.
# X: remove; Z: keep, empty; D: replace with a dummy value.
_REMOVE = [
    "AccessionNumber",
    "AcquisitionComments",
    "AcquisitionContextSequence",
    "AcquisitionDate",
    "AcquisitionDateTime",
    "AcquisitionDeviceProcessingDescription",
    "AcquisitionTime",
    "ActualHumanPerformersSequence",
    "AdditionalPatientHistory",
    "AdmissionID",
    "AdmittingDate",
    "AdmittingDiagnosesCodeSequence",
    "AdmittingDiagnosesDescription",
    "AdmittingTime",
    "AffectedSOPInstanceUID",
    "Allergies",
    "Arbitrary",
    "AuthorObserverSequence",
    "BranchOfService",
    "CassetteID",
    "CommentsOnThePerformedProcedureStep",
    "ConfidentialityConstraintOnPatientDataDescription",
    "ContentCreatorIdentificationCodeSequence",
    "ContributionDescription",
    "CountryOfResidence",
    "CurrentPatientLocation",
    "CurveDate",
    "CurveTime",
    "CustodialOrganizationSequence",
    "DataSetTrailingPadding",
    "DerivationDescription",
    "DetectorID",
    "DeviceSerialNumber",
    "DeviceUID",
    "DigitalSignaturesSequence",
    "DischargeDiagnosisDescription",
    "DistributionAddress",
    "DistributionName",
    "EthnicGroup",
    "FrameComments",
    "GantryID",
    "GeneratorID",
    "HumanPerformerName",
    "HumanPerformerOrganization",
    "IconImageSequence",
    "IdentifyingComments",
    "ImageComments",
    "ImagePresentationComments",
    "ImagingServiceRequestComments",
    "Impressions",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "InstitutionCodeSequence",
    "InstitutionName",
    "InsurancePlanIdentification",
    "IntendedRecipientsOfResultsIdentificationSequence",
    "InterpretationApproverSequence",
    "InterpretationAuthor",
    "InterpretationDiagnosisDescription",
    "InterpretationIDIssuer",
    "InterpretationRecorder",
    "InterpretationText",
    "InterpretationTranscriber",
    "IssuerOfAdmissionID",
    "IssuerOfPatientID",
    "IssuerOfServiceEpisodeID",
    "MedicalAlerts",
    "MedicalRecordLocator",
    "MilitaryRank",
    "ModifiedAttributesSequence",
    "ModifiedImageDescription",
    "ModifyingDeviceID",
    "NameOfPhysiciansReadingStudy",
    "NamesOfIntendedRecipientsOfResults",
    "Occupation",
    "OperatorIdentificationSequence",
    "OperatorsName",
    "OriginalAttributesSequence",
    "OrderCallbackPhoneNumber",
    "OrderEnteredBy",
    "OrderEntererLocation",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "OverlayComments",
    "OverlayDate",
    "OverlayTime",
    "ParticipantSequence",
    "PatientAddress",
    "PatientComments",
    "PatientState",
    "PatientTransportArrangements",
    "PatientBirthName",
    "PatientBirthTime",
    "PatientInstitutionResidence",
    "PatientInsurancePlanCodeSequence",
    "PatientMotherBirthName",
    "PatientPrimaryLanguageCodeSequence",
    "PatientPrimaryLanguageModifierCodeSequence",
    "PatientReligiousPreference",
    "PatientTelephoneNumbers",
    "PatientTelecomInformation",
    "PerformedLocation",
    "PerformedProcedureStepDescription",
    "PerformedProcedureStepEndDate",
    "PerformedProcedureStepEndTime",
    "PerformedProcedureStepID",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "PerformedStationAETitle",
    "PerformedStationGeographicLocationCodeSequence",
    "PerformedStationName",
    "PerformedStationNameCodeSequence",
    "PerformingPhysicianIdentificationSequence",
    "PerformingPhysicianName",
    "PersonAddress",
    "PersonIdentificationCodeSequence",
    "PersonName",
    "PersonTelephoneNumbers",
    "PersonTelecomInformation",
    "PhysicianApprovingInterpretation",
    "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence",
    "PhysiciansReadingStudyIdentificationSequence",
    "PlateID",
    "PreMedication",
    "PregnancyStatus",
    "ReasonForImagingServiceRequest",
    "ReasonForStudy",
    "ReferencedDigitalSignatureSequence",
    "ReferencedPatientAliasSequence",
    "ReferencedPatientPhotoSequence",
    "ReferencedSOPInstanceMACSequence",
    "ReferringPhysicianAddress",
    "ReferringPhysicianIdentificationSequence",
    "ReferringPhysicianTelephoneNumbers",
    "RegionOfResidence",
    "RequestAttributesSequence",
    "RequestedContrastAgent",
    "RequestedProcedureComments",
    "RequestedProcedureID",
    "RequestedProcedureLocation",
    "RequestingPhysician",
    "RequestingService",
    "ResponsibleOrganization",
    "ResponsiblePerson",
    "ResponsiblePersonRole",
    "ResultsComments",
    "ResultsDistributionListSequence",
    "ResultsIDIssuer",
    "ScheduledHumanPerformersSequence",
    "ScheduledPatientInstitutionResidence",
    "ScheduledPerformingPhysicianIdentificationSequence",
    "ScheduledPerformingPhysicianName",
    "ScheduledProcedureStepEndDate",
    "ScheduledProcedureStepEndTime",
    "ScheduledProcedureStepLocation",
    "ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepStartTime",
    "ScheduledStationAETitle",
    "ScheduledStationGeographicLocationCodeSequence",
    "ScheduledStationName",
    "ScheduledStationNameCodeSequence",
    "ScheduledStudyLocation",
    "ScheduledStudyLocationAETitle",
    "SeriesDescription",
    "ServiceEpisodeDescription",
    "ServiceEpisodeID",
    "SmokingStatus",
    "SourceImageSequence",
    "SpecialNeeds",
    "StationName",
    "StudyComments",
    "StudyDescription",
    "StudyIDIssuer",
    "TextComments",
    "TextString",
    "TopicAuthor",
    "TopicKeywords",
    "TopicSubject",
    "TopicTitle",
    "VerifyingObserverIdentificationCodeSequence",
    "VerifyingObserverName",
    "VerifyingOrganization",
    "VisitComments",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "MilitaryRank",
]
_EMPTY = [
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "ReferringPhysicianName",
    "ContentCreatorName",
    "ContentDate",
    "ContentTime",
    "SeriesDate",
    "SeriesTime",
    "VerifyingObserverSequence",
    "ContentSequence",
]
_UIDS = [
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
    "ReferencedSOPInstanceUID",
    "ReferencedFrameOfReferenceUID",
    "SynchronizationFrameOfReferenceUID",
    "MediaStorageSOPInstanceUID",
    "IrradiationEventUID",
    "RequestedSOPInstanceUID",
    "StorageMediaFileSetUID",
    "InstanceCreatorUID",
    "ConcatenationUID",
    "DimensionOrganizationUID",
]


def deidentify(dataset: Dataset, *, salt: str) -> Dataset:
    """Apply the basic profile to ``dataset`` in place and return it.

    ``salt`` (the case's reference) makes replacement UIDs the same for every file of one
    case and different between cases.
    """
    dataset.remove_private_tags()
    _clean(dataset, salt)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID") or _uid(
            str(meta.MediaStorageSOPInstanceUID), salt
        )
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = "DICOM PS3.15 Basic Application Confidentiality Profile"
    dataset.BurnedInAnnotation = "NO"
    return dataset


def _uid(original: str, salt: str) -> str:
    return generate_uid(entropy_srcs=[salt, original])


def _clean(dataset: Dataset, salt: str) -> None:
    for element in list(dataset):
        keyword = element.keyword
        group = element.tag.group
        # Overlays (60xx) and curves (50xx) can hold burned-in text and drawings.
        if 0x6000 <= group <= 0x60FF or 0x5000 <= group <= 0x50FF or keyword in _REMOVE:
            del dataset[element.tag]
        elif keyword in _EMPTY:
            if element.VR == "SQ":
                element.value = []
            else:
                element.value = None
        elif keyword in _UIDS and element.value:
            element.value = (
                [_uid(str(v), salt) for v in element.value]
                if element.VM > 1
                else _uid(str(element.value), salt)
            )
        elif element.VR == "SQ":
            for item in element.value:
                _clean(item, salt)
        elif element.VR == "PN":
            # Any other person name (an unusual or newer attribute) goes too.
            element.value = None


def first_frame_picture(dataset: Dataset) -> tuple[Image.Image, np.ndarray]:
    """The first frame as an 8-bit picture, and the raw frame it came from."""
    frames = dataset.pixel_array
    frame = frames[0] if int(dataset.get("NumberOfFrames") or 1) > 1 else frames
    shown = frame
    if shown.ndim == 2:
        shown = apply_voi_lut(shown, dataset)
    shown = shown.astype(np.float32)
    low, high = float(shown.min()), float(shown.max())
    scaled = (
        np.zeros(shown.shape, np.uint8)
        if high <= low
        else ((shown - low) * (255.0 / (high - low))).clip(0, 255).astype(np.uint8)
    )
    if str(dataset.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        scaled = 255 - scaled
    return Image.fromarray(np.ascontiguousarray(scaled)).convert("RGB"), frame


def box_pixels(dataset: Dataset, boxes: Iterable[Sequence[int]]) -> Dataset:
    """Paint ``boxes`` (in first-frame pixels) over every frame of the pixel data."""
    pixels = dataset.pixel_array.copy()
    frames = int(dataset.get("NumberOfFrames") or 1)
    floor = pixels.min()
    for left, top, right, bottom in boxes:
        if frames > 1:
            pixels[:, top:bottom, left:right] = floor
        else:
            pixels[top:bottom, left:right] = floor
    dataset.set_pixel_data(
        pixels,
        photometric_interpretation=str(dataset.PhotometricInterpretation),
        bits_stored=int(dataset.BitsStored),
    )
    if dataset.file_meta.TransferSyntaxUID != ExplicitVRLittleEndian:
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return dataset


def read(path: Path) -> Dataset:
    return pydicom.dcmread(path)
