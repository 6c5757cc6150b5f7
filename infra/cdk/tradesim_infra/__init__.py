"""The AWS CDK app for tradesim: network, data, delivery and services stacks per deployment."""
