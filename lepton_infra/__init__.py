"""lepton-infra: a GPU AI platform on AWS, Azure and Alibaba Cloud, as Pulumi components."""
